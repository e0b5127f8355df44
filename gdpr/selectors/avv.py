"""What the portal's "Datenschutz" pages show about the AVV: the current version, the state of
a customer and of the person looking, the acceptances of the customer's admins, and the one
question the banner on every page asks (has this customer admin accepted the current
version?). Templates show these flags; they do not decide."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from gdpr.models import AvvAcceptance, AvvStatus, AvvVersion, TomCategory
from gdpr.services.avv import AvvState, avv_may_accept, avv_state_for, current_avv
from portal.roles import Role
from portal.tenancy import role_of

#: The badge of each acceptance state of a customer (CSS class of .badge).
STATE_BADGES = {AvvState.ACCEPTED_CURRENT: "badge--ok", AvvState.ACCEPTED_OLDER: "badge--warn",
                AvvState.NEVER: "badge--bad"}


@dataclass(frozen=True)
class AvvPage:
    current: AvvVersion | None
    customer_state: AvvState
    customer_badge: str
    acceptances: list  # the customer's acceptances, newest first, with person and version
    own_acceptance: AvvAcceptance | None  # the person's acceptance of the current version
    may_accept: bool  # the accept form is shown (customer admin, current not yet accepted)


def avv_page(user, customer) -> AvvPage:
    """The AVV overview of ``customer`` as ``user`` sees it (through ``visible_to``)."""
    current = current_avv()
    acceptances = list(AvvAcceptance.objects.visible_to(user).filter(customer=customer)
                       .select_related("person", "version"))
    own = next((acceptance for acceptance in acceptances
                if current is not None and acceptance.version_id == current.pk
                and acceptance.person_id == user.pk), None)
    state = avv_state_for(customer)
    return AvvPage(current=current, customer_state=state, customer_badge=STATE_BADGES[state],
                   acceptances=acceptances, own_acceptance=own,
                   may_accept=(current is not None and own is None
                               and avv_may_accept(user, customer)))


def avv_state_label(state: AvvState) -> str:
    return {AvvState.ACCEPTED_CURRENT: _("aktuelle Version angenommen"),
            AvvState.ACCEPTED_OLDER: _("nur eine ältere Version angenommen"),
            AvvState.NEVER: _("noch keine Version angenommen")}[state]


def tom_categories(version: AvvVersion) -> list[dict]:
    """The frozen TOMs a–h of ``version`` with their labels in the active language; in
    English each measure in its English wording where one was entered (the German binds)."""
    labels = {category.value: category.label for category in TomCategory}
    english = (get_language() or "").startswith("en")
    categories = []
    for entry in version.toms:
        measures = list(entry["measures"])
        if english:
            wordings = entry.get("measures_en") or []
            measures = [wordings[i] if i < len(wordings) and wordings[i] else text
                        for i, text in enumerate(measures)]
        categories.append({"category": entry["category"],
                           "label": labels.get(entry["category"], entry["label"]),
                           "measures": measures})
    return categories


def avv_label_to_accept(user) -> str | None:
    """The label of the current version when ``user`` is a customer admin who has not accepted
    it yet, else ``None``: one query for customer admins, none for everybody else (it runs
    on every page, for the banner)."""
    if role_of(user) != Role.CUSTOMER_ADMIN:
        return None
    own = AvvAcceptance.objects.visible_to(user).filter(person=user, version=OuterRef("pk"))
    row = (AvvVersion.objects.filter(status=AvvStatus.PUBLISHED)
           .order_by("-published_at", "-id")
           .values_list("label", Exists(own)).first())
    if row is None or row[1]:
        return None
    return row[0]
