"""Roles, the organisation kinds they belong to and the admin permissions of each role.

A person has exactly one membership, and with it one role. The role decides which organisation
kind the membership may point to, whether the person may use the staff admin and which Django
permissions its group carries. ``sync_role_groups`` writes these groups into the database.

The roles are ordered (``ROLE_RANK``, highest first)::

    provider admin > DPO > provider staff > partner support > customer admin > customer member

Nobody may deactivate, reactivate, rename, re-invite, reset the second factor of or change the
role of a person whose role ranks above their own, and nobody may hand out a role above their
own (``outranks``); the same or a lower rank is allowed wherever the role may manage people at
all (which organisations it may reach is tenancy's business, ``visible_to``). The DPO ranks
directly below the provider admin and above provider staff: the DPO must be independent
(GDPR Art. 38(3)), so provider staff can neither deactivate nor demote the DPO, while the
provider admin, who appoints the DPO for the provider, may manage the DPO. The DPO manages no
people. A Django superuser ranks as a provider admin, both as actor and as target.

The last active provider admin can never be deactivated or given another role, by nobody
(``portal.services.accounts``): somebody must always be able to manage the provider.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    PROVIDER = "provider", _("Anbieter")
    PARTNER = "partner", _("Partner")
    CUSTOMER = "customer", _("Kunde")


class Role(models.TextChoices):
    PROVIDER_ADMIN = "provider_admin", _("Administrator (Anbieter)")
    PROVIDER_STAFF = "provider_staff", _("Mitarbeiter (Anbieter)")
    DPO = "dpo", _("Datenschutzbeauftragter")
    PARTNER_SUPPORT = "partner_support", _("Partner-Support (1st Level)")
    CUSTOMER_ADMIN = "customer_admin", _("Kunden-Administrator")
    CUSTOMER_MEMBER = "customer_member", _("Kunden-Mitarbeiter")


ROLE_KIND = {
    Role.PROVIDER_ADMIN: OrganisationKind.PROVIDER,
    Role.PROVIDER_STAFF: OrganisationKind.PROVIDER,
    Role.DPO: OrganisationKind.PROVIDER,
    Role.PARTNER_SUPPORT: OrganisationKind.PARTNER,
    Role.CUSTOMER_ADMIN: OrganisationKind.CUSTOMER,
    Role.CUSTOMER_MEMBER: OrganisationKind.CUSTOMER,
}

#: Roles that see every customer.
PROVIDER_ROLES = frozenset({Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF, Role.DPO})
#: Roles that work in the Django admin.
STAFF_ROLES = PROVIDER_ROLES | {Role.PARTNER_SUPPORT}
#: Roles that work in the customer portal.
CUSTOMER_ROLES = frozenset({Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER})
#: Roles whose holders may invite colleagues in the portal.
INVITING_ROLES = frozenset({Role.CUSTOMER_ADMIN})
#: Roles that may add, change, retire, import and export devices (for the customers they see).
DEVICE_EDITOR_ROLES = frozenset({Role.PROVIDER_ADMIN, Role.PROVIDER_STAFF, Role.PARTNER_SUPPORT,
                                 Role.CUSTOMER_ADMIN})
#: Roles that may export the inventory (reading only).
DEVICE_EXPORT_ROLES = DEVICE_EDITOR_ROLES | {Role.DPO}

#: Roles that may open the records a purge retained under a legal duty (DOMAIN §5: "only
#: billing staff and the DPO"); everybody else sees nothing of a purged customer. Billing staff
#: join with the billing issue, which introduces their role.
RESTRICTED_RECORD_ROLES = frozenset({Role.DPO})

#: Which roles a role may hand out by invitation (in the portal or the admin).
INVITABLE_ROLES = {
    Role.PROVIDER_ADMIN: frozenset(Role),
    Role.PROVIDER_STAFF: frozenset({Role.PARTNER_SUPPORT, Role.CUSTOMER_ADMIN,
                                    Role.CUSTOMER_MEMBER}),
    Role.DPO: frozenset(),
    Role.PARTNER_SUPPORT: frozenset({Role.CUSTOMER_ADMIN}),
    Role.CUSTOMER_ADMIN: frozenset({Role.CUSTOMER_ADMIN, Role.CUSTOMER_MEMBER}),
    Role.CUSTOMER_MEMBER: frozenset(),
}

#: The order of the roles (see the module docstring); a higher number ranks above.
ROLE_RANK = {
    Role.PROVIDER_ADMIN: 50,
    Role.DPO: 40,
    Role.PROVIDER_STAFF: 30,
    Role.PARTNER_SUPPORT: 20,
    Role.CUSTOMER_ADMIN: 10,
    Role.CUSTOMER_MEMBER: 0,
}
#: People without a role (no membership) rank below every role.
NO_ROLE_RANK = -1


def rank(role: str | None) -> int:
    return ROLE_RANK.get(role, NO_ROLE_RANK) if role else NO_ROLE_RANK


def least_privileged(roles) -> str | None:
    """The lowest-ranking of ``roles``: what a form offers first, so that a hurried click
    hands out as little as possible (``None`` when there is none)."""
    return min(roles, key=rank, default=None)


def outranks(role: str | None, other: str | None) -> bool:
    """Whether ``role`` ranks strictly above ``other``."""
    return rank(role) > rank(other)


_VIEW = ("view",)
_EDIT = ("view", "add", "change")
_DEVICES = ("view", "add", "change", "import", "export")

#: Admin permissions per role: {role: {"app_label.model": (actions...)}}.
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.PROVIDER_ADMIN: {
        "portal.organisation": _EDIT,
        "portal.membership": _EDIT,
        "portal.user": _EDIT,
        "portal.auditevent": _VIEW,
        "portal.notification": _VIEW,
        "portal.document": _VIEW,
        "portal.changenotice": _VIEW,
        "portal.accesslogentry": _VIEW,
        "django_q.schedule": ("view", "add", "change", "delete"),
        "django_q.success": _VIEW,
        "django_q.failure": ("view", "delete"),
        "django_q.ormq": _VIEW,
        "devices.device": _DEVICES,
        "devices.deviceimport": _VIEW,
        "contracts.plan": _EDIT,
        "contracts.contract": ("view", "change"),
        "contracts.booking": _VIEW,
        "contracts.planpricechange": _VIEW,
        "contracts.specialterminationoffer": _VIEW,
        "gdpr.avvversion": _EDIT,
        "gdpr.tommeasure": ("view", "add", "change", "delete"),
        "gdpr.avvacceptance": _VIEW,
        "gdpr.subprocessor": _EDIT,
        "gdpr.objectioncase": _VIEW,
        "gdpr.processingrecord": _EDIT,
        "gdpr.processingreview": _VIEW,
        "gdpr.datasubjectrequest": _EDIT,
        "gdpr.personexport": _VIEW,
        "gdpr.legalhold": _VIEW,
        "gdpr.deletioncertificate": _VIEW,
        "gdpr.pendingfiledeletion": _VIEW,
        "gdpr.customerexport": _VIEW,
        "gdpr.contractendmail": _VIEW,
        "gdpr.dataprovisionorder": ("view", "change"),
    },
    Role.PROVIDER_STAFF: {
        "portal.organisation": _EDIT,
        "portal.membership": _EDIT,
        "portal.user": _EDIT,
        "portal.notification": _VIEW,
        "portal.document": _VIEW,
        "portal.changenotice": _VIEW,
        "devices.device": _DEVICES,
        "devices.deviceimport": _VIEW,
        "contracts.plan": _EDIT,
        "contracts.contract": ("view", "change"),
        "contracts.booking": _VIEW,
        "contracts.planpricechange": _VIEW,
        "contracts.specialterminationoffer": _VIEW,
        "gdpr.avvversion": _VIEW,
        "gdpr.avvacceptance": _VIEW,
        "gdpr.subprocessor": _VIEW,
        "gdpr.objectioncase": _VIEW,
        "gdpr.datasubjectrequest": _EDIT,
        "gdpr.customerexport": _VIEW,
        "gdpr.contractendmail": _VIEW,
        "gdpr.dataprovisionorder": ("view", "change"),
    },
    Role.DPO: {
        "portal.organisation": _VIEW,
        "portal.membership": _VIEW,
        "portal.user": _VIEW,
        "portal.auditevent": _VIEW,
        "portal.notification": _VIEW,
        "portal.document": _VIEW,
        "portal.changenotice": _VIEW,
        "portal.accesslogentry": _VIEW,
        "devices.device": ("view", "export"),
        "devices.deviceimport": _VIEW,
        "contracts.plan": _VIEW,
        "contracts.contract": _VIEW,
        "contracts.booking": _VIEW,
        "contracts.planpricechange": _VIEW,
        "gdpr.avvversion": _VIEW,
        "gdpr.tommeasure": _VIEW,
        "gdpr.avvacceptance": _VIEW,
        "gdpr.subprocessor": _VIEW,
        "gdpr.objectioncase": ("view", "change"),
        "gdpr.processingrecord": _VIEW,
        "gdpr.processingreview": ("view", "add"),
        "gdpr.datasubjectrequest": _EDIT,
        "gdpr.personexport": _VIEW,
        "gdpr.legalhold": _EDIT,
        "gdpr.deletioncertificate": _VIEW,
        "gdpr.pendingfiledeletion": _VIEW,
        "gdpr.customerexport": _VIEW,
        "gdpr.contractendmail": _VIEW,
        "gdpr.dataprovisionorder": _VIEW,
    },
    Role.PARTNER_SUPPORT: {
        "portal.changenotice": _VIEW,
        "portal.organisation": _VIEW,
        "portal.membership": _VIEW,
        "portal.user": ("view", "add", "change"),
        "devices.device": _DEVICES,
        "devices.deviceimport": _VIEW,
        "contracts.plan": _VIEW,
        "contracts.contract": _VIEW,
        "contracts.booking": _VIEW,
        "gdpr.avvacceptance": _VIEW,
    },
    Role.CUSTOMER_ADMIN: {},
    Role.CUSTOMER_MEMBER: {},
}

#: Extra (non-model) permissions, granted to provider admins.
CUSTOM_PERMISSIONS = {
    Role.PROVIDER_ADMIN: ("portal.reset_mfa",),
}


def group_name(role: str) -> str:
    """The name of the Django group that carries a role's permissions."""
    return f"role:{role}"
