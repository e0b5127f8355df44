"""The staff admin: the same allauth login and second factor; customer roles never enter.

People appear on admin pages only through ``portal.selectors.person_label`` (the viewer's
``User.objects.visible_to``), also on the pages Django itself builds: every registered admin gets
``PeopleInHistoryMixin`` for its change history, the index's "recent actions" name an object
only while it is visible to the viewer, and the "view on site" shortcut answers 404 for every
object the person may not open, whether it exists or not.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.registries import PAGE_ADMIN_INDEX, sections_for
from portal.roles import STAFF_ROLES
from portal.selectors import person_label, visible_person_ids
from portal.tenancy import role_of

#: How many of the person's own admin actions the index lists (as Django's own index).
RECENT_ACTIONS = 10


class PeopleInHistoryMixin:
    """The change history names each person by the visibility rule (one query per page)."""

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        entries = getattr(response, "context_data", {}).get("action_list")
        if entries is not None:
            visible = visible_person_ids(request.user, (entry.user_id for entry in entries))
            for entry in entries:  # the page's entries, fetched once by the paginator
                entry.person_label = person_label(request.user, entry.user,
                                                  visible=entry.user_id in visible)
        return response


def _visible_object_ids(user, entries: list[LogEntry]) -> dict[int, set[str]]:
    """Per content type of ``entries`` whose model is tenant-scoped: the ids still visible to
    ``user`` (one query per content type). Models without ``visible_to`` are not listed."""
    wanted: dict[int, set[str]] = {}
    for entry in entries:
        wanted.setdefault(entry.content_type_id, set()).add(entry.object_id)
    visible = {}
    for content_type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(content_type_id).model_class()
        manager = getattr(model, "_default_manager", None)
        if not hasattr(manager, "visible_to"):
            continue
        try:
            found = manager.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)
            visible[content_type_id] = {str(pk) for pk in found}
        except (ValueError, ValidationError):
            visible[content_type_id] = set()
    return visible


def recent_actions(user) -> list[LogEntry]:
    """The person's own latest admin actions, each with ``shown_repr`` and ``shown_url``: an
    object that the person may no longer see (e.g. a customer now with another partner) is not
    named or linked."""
    entries = list(LogEntry.objects.filter(user_id=user.pk)
                   .select_related("content_type")[:RECENT_ACTIONS])
    visible = _visible_object_ids(user, [entry for entry in entries if entry.content_type_id])
    for entry in entries:
        scoped = visible.get(entry.content_type_id)
        shown = scoped is None or entry.object_id in scoped
        entry.shown_repr = entry.object_repr if shown else gettext("(nicht einsehbar)")
        entry.shown_url = (entry.get_admin_url() if shown and not entry.is_deletion() else None)
    return entries


class PortalAdminSite(admin.AdminSite):
    site_header = _("Kundenportal – Verwaltung")
    site_title = _("Kundenportal – Verwaltung")
    index_title = _("Verwaltung")
    enable_nav_sidebar = True

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(
            user.is_active
            and user.is_staff
            and user.is_verified()
            and (user.is_superuser or role_of(user) in STAFF_ROLES)
        )

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every admin, the portal's and third-party ones, shows people in its history by the
        visibility rule."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, PeopleInHistoryMixin):
            admin_class = type(admin_class.__name__, (PeopleInHistoryMixin, admin_class),
                               {"__module__": admin_class.__module__})
        return super().register(model_or_iterable, admin_class, **options)

    def get_urls(self):
        urls = [url for url in super().get_urls() if getattr(url, "name", None) != "view_on_site"]
        return [
            path("r/<path:content_type_id>/<path:object_id>/",
                 self.admin_view(self.view_on_site), name="view_on_site"),
            *urls,
        ]

    def view_on_site(self, request, content_type_id, object_id):
        """Django's shortcut to an object's page, but only for an object that is visible to
        the person (``visible_to``) and that they may view in the admin; anything else, an
        existing foreign id as well as a missing one, is the same 404."""
        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except (ValueError, ContentType.DoesNotExist) as exc:
            raise Http404 from exc
        model_admin = self._registry.get(model)
        manager = getattr(model, "_default_manager", None)
        if model_admin is None or not hasattr(manager, "visible_to"):
            raise Http404
        try:
            obj = manager.visible_to(request.user).filter(pk=object_id).first()
        except (ValueError, ValidationError) as exc:
            raise Http404 from exc
        if obj is None or not model_admin.has_view_or_change_permission(request, obj):
            raise Http404
        return shortcut(request, content_type_id, object_id)

    def index(self, request, extra_context=None):
        return super().index(request, {"recent_actions": recent_actions(request.user),
                                       "sections": sections_for(PAGE_ADMIN_INDEX, request),
                                       **(extra_context or {})})

    def login(self, request, extra_context=None):
        """No login form of its own: the portal's login, then the second factor."""
        if request.user.is_authenticated:
            if not request.user.is_verified():
                return HttpResponseRedirect(
                    f"{reverse('portal:mfa_verify')}?{urlencode({'next': request.path})}")
            raise PermissionDenied(_("Ihr Konto hat keinen Zugang zur Verwaltung."))
        next_url = request.GET.get("next") or reverse("admin:index")
        return HttpResponseRedirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")

    def logout(self, request, extra_context=None):
        return HttpResponseRedirect(reverse("account_logout"))

    def password_change(self, request, extra_context=None):
        """The portal's password page: re-authentication first, audited, the person told."""
        return HttpResponseRedirect(reverse("account_change_password"))

    def password_change_done(self, request, extra_context=None):
        return HttpResponseRedirect(reverse("portal:security"))
