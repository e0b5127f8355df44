"""Sending a change notice by hand from the staff admin ("Mitteilung versenden" on the list of
change notices): a form (kind, title, text, effective date), then a confirmation that says how
many customers receive it and until when they can object, then ``change_notice_issue``.

Only the kinds that name their recipients are offered (``NoticeKind.recipients``; today the
terms change); the others are issued by their own flows. Only provider admins and staff send
(``change_notice_may_issue``). A change that takes effect too soon (the kind's minimum lead)
is refused on the form with the service's message; nothing is stored.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from portal.change_notices.kinds import kind_get, kinds_sent_by_hand
from portal.change_notices.models import ChangeNotice
from portal.change_notices.services import (
    change_notice_issue,
    change_notice_may_issue,
    change_notice_preview,
)

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class NoticeSendForm(forms.Form):
    kind = forms.ChoiceField(label=_("Art"))
    title = forms.CharField(label=_("Titel"),
                            max_length=ChangeNotice._meta.get_field("title").max_length)
    text = forms.CharField(
        label=_("Text der Mitteilung"), widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Was sich ändert. Was ein Widerspruch bewirkt und was Schweigen bedeutet, "
                    "fügt das Portal an."))
    effective_on = forms.DateField(label=_("wirksam ab"), widget=_DATE)

    def __init__(self, *args, received_on, **kwargs):
        super().__init__(*args, **kwargs)
        self.received_on = received_on
        self.fields["kind"].choices = [(kind.code, kind.label) for kind in kinds_sent_by_hand()]

    def clean(self):
        data = super().clean()
        if "kind" in data and "effective_on" in data:
            self.preview = change_notice_preview(kind_get(data["kind"]),
                                                 received_on=self.received_on,
                                                 effective_on=data["effective_on"])
            if self.preview.refusal:
                self.add_error("effective_on", self.preview.refusal)
        return data


def _summary(form: NoticeSendForm) -> list[tuple[str, str]]:
    data = form.cleaned_data
    return [(str(form.fields["kind"].label), str(kind_get(data["kind"]).label)),
            (str(form.fields["title"].label), data["title"]),
            (str(form.fields["text"].label), data["text"]),
            (str(form.fields["effective_on"].label), data["effective_on"].strftime("%d.%m.%Y"))]


def notice_send_view(model_admin, request):
    """Form, confirmation (recipients, objection deadline), then ``change_notice_issue``."""
    if not change_notice_may_issue(request.user):
        raise PermissionDenied
    bound = request.method == "POST"
    form = NoticeSendForm(request.POST if bound else None, received_on=timezone.localdate())
    confirming = bound and form.is_valid()
    recipients = kind_get(form.cleaned_data["kind"]).recipients() if confirming else None
    if confirming and request.POST.get("confirmed") == "yes":
        data = form.cleaned_data
        try:
            notices = change_notice_issue(
                actor=request.user, kind=data["kind"], customers=recipients,
                title=data["title"], text=data["text"], subject=None,
                effective_on=data["effective_on"], sent_on=form.received_on)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
            confirming = False
        else:
            count = len(notices)
            model_admin.message_user(request, ngettext(
                "„%(title)s“ versendet; %(count)d Kunde erhält die Änderungsmitteilung.",
                "„%(title)s“ versendet; %(count)d Kunden erhalten die Änderungsmitteilung.",
                count) % {"title": data["title"], "count": count}, messages.SUCCESS)
            opts = model_admin.opts
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return TemplateResponse(request, "admin/portal/changenotice/send.html", {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": gettext("Mitteilung versenden"),
        "form": form,
        "confirming": confirming,
        "summary": _summary(form) if confirming else [],
        "recipients": recipients.count() if confirming else 0,
        "preview": form.preview if confirming else None,
    })
