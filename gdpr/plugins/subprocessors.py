"""The change-notice kind of the sub-processor register (portal/change_notices/kinds.py):
30 calendar days after receipt, an objection needs a reason, and it opens a DPO case
(002 AVV §7, DOMAIN §4)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from gdpr.models import SUBPROCESSOR_KIND
from portal.change_notices.kinds import NoticeKind, kinds
from portal.periods import Period


def _open_case(*, notice, actor):
    # Imported here: the services import contracts and the notices machinery, the plugins
    # module is loaded while the registries are filled.
    from gdpr.services.subprocessors import objection_case_open

    return objection_case_open(notice=notice, actor=actor)


kinds.register(NoticeKind(
    code=SUBPROCESSOR_KIND, label=gettext_lazy("Änderung der Unterauftragsverarbeiter"),
    window=Period(days=30), reason_required=True,
    on_objection=gettext_lazy(
        "Sie können aus berechtigten Gründen widersprechen; bitte begründen Sie Ihren "
        "Widerspruch. Widersprechen Sie, ist der Anbieter nicht verpflichtet, Ihnen die "
        "Leistungen weiter zu erbringen, für die er diesen Unterauftragsverarbeiter einsetzt "
        "(AVV § 7)."),
    silence_text=gettext_lazy("Widersprechen Sie nicht bis zum {deadline} im Portal, gilt die "
                              "Änderung als genehmigt."),
    on_objected=_open_case))
