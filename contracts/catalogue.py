"""The plans of the demo catalogue (DOMAIN.md § 2), created or updated by ``seed_demo``.

Feature names are stored in German (the plan's data) and marked here with ``gettext_noop``
so that the catalog carries them; pages translate them when they render
(``{% translate feature %}`` in templates/contracts/catalogue.html), never at import time.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_noop

from contracts.models import BillingMode, Plan, PlanFamily, PlanUnit

CLIENT_FEATURES = [
    gettext_noop("Fernzugriff ohne TeamViewer/AnyDesk"),
    gettext_noop("Automatische Neustarts"),
    gettext_noop("Patch-Management mit regelmäßigen Berichten"),
    gettext_noop("Proaktives Monitoring"),
    gettext_noop("Treiber- und BIOS-Updates"),
]
SOFTWARE_DISTRIBUTION = gettext_noop("Automatische Softwareverteilung")
NEXT_DAY_HARDWARE = gettext_noop("Hardwaretausch am nächsten Werktag (Business Continuity)")
SERVER_BASIS = [gettext_noop("24/7-Monitoring"), gettext_noop("Monatlicher Bericht"),
                gettext_noop("Sicherheitsupdates")]
#: The feature that puts a device under anti-virus management besides the AV plan itself
#: (DOMAIN.md § 2: included in Server Plus/Premium; ``contracts.selectors.av_managed``).
AV_MANAGEMENT = gettext_noop("Anti-Virus-Management")
SERVER_PLUS = [*SERVER_BASIS, gettext_noop("Remote-Pauschale"),
               gettext_noop("Interventionszeiten 4 h / 24 h"), AV_MANAGEMENT]
SERVER_PREMIUM = [*SERVER_PLUS, gettext_noop("Vor-Ort-Einsätze"),
                  gettext_noop("Anwendungsbetreuung"),
                  gettext_noop("Notfallnummer außerhalb der Servicezeiten")]
AV_FEATURES = [gettext_noop("Signaturprüfung an jedem Werktag"),
               gettext_noop("Alarm bei veralteter Signatur"),
               gettext_noop("Meldung an gewählte Empfänger")]

CLIENT_TERMS = {"notice": "15d", "notice_anchor": "month_end", "min_term": "12m",
                "renewal": "1m", "provider_notice": "3m", "provider_notice_anchor": "month_end"}
SERVER_TERMS = {"notice": "3m", "notice_anchor": "term_end", "min_term": "12m",
                "renewal": "12m", "provider_notice": "3m", "provider_notice_anchor": "term_end"}
AV_TERMS = {"notice": "15d", "notice_anchor": "month_end", "min_term": "", "renewal": "1m",
            "provider_notice": "3m", "provider_notice_anchor": "month_end"}

DEMO_PLANS = [
    {"code": "mc-basis", "name": "Managed Client Basis", "family": PlanFamily.MANAGED_CLIENT,
     "tier": "Basis", "unit": PlanUnit.WORKSTATION, "monthly_price": Decimal("5.00"),
     "features": CLIENT_FEATURES, "sort_order": 1, **CLIENT_TERMS},
    {"code": "mc-standard", "name": "Managed Client Standard",
     "family": PlanFamily.MANAGED_CLIENT, "tier": "Standard", "unit": PlanUnit.WORKSTATION,
     "monthly_price": Decimal("8.00"),
     "features": [*CLIENT_FEATURES, SOFTWARE_DISTRIBUTION], "sort_order": 2,
     **CLIENT_TERMS},
    {"code": "mc-premium", "name": "Managed Client Premium",
     "family": PlanFamily.MANAGED_CLIENT, "tier": "Premium", "unit": PlanUnit.WORKSTATION,
     "monthly_price": Decimal("12.60"),
     "features": [*CLIENT_FEATURES, SOFTWARE_DISTRIBUTION, NEXT_DAY_HARDWARE],
     "sort_order": 3, **CLIENT_TERMS},
    {"code": "srv-basis", "name": "Server Management Basis",
     "family": PlanFamily.SERVER_MANAGEMENT, "tier": "Basis", "unit": PlanUnit.SERVER,
     "monthly_price": Decimal("49.00"), "features": SERVER_BASIS, "sort_order": 1,
     **SERVER_TERMS},
    {"code": "srv-plus", "name": "Server Management Plus",
     "family": PlanFamily.SERVER_MANAGEMENT, "tier": "Plus", "unit": PlanUnit.SERVER,
     "monthly_price": Decimal("89.00"), "features": SERVER_PLUS, "requires_isa": True,
     "sort_order": 2, **SERVER_TERMS},
    {"code": "srv-premium", "name": "Server Management Premium",
     "family": PlanFamily.SERVER_MANAGEMENT, "tier": "Premium", "unit": PlanUnit.SERVER,
     "monthly_price": Decimal("149.00"), "features": SERVER_PREMIUM, "requires_isa": True,
     "sort_order": 3, **SERVER_TERMS},
    {"code": "av", "name": "Anti-Virus Management", "family": PlanFamily.ANTIVIRUS,
     "tier": "Standard", "unit": PlanUnit.WORKSTATION, "monthly_price": Decimal("2.50"),
     "features": AV_FEATURES, "sort_order": 1, **AV_TERMS},
]


def plans_seed() -> list[Plan]:
    """Create or update the demo plans by code (idempotent)."""
    plans = []
    for data in DEMO_PLANS:
        values = {"billing_mode": BillingMode.FULL_MONTHS, "requires_isa": False, **data}
        code = values.pop("code")
        plan = Plan.objects.filter(code=code).first() or Plan(code=code)
        for name, value in values.items():
            setattr(plan, name, value)
        plan.full_clean()
        plan.save()
        plans.append(plan)
    return plans
