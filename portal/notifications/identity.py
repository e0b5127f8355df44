"""Who sends: the provider's identity that every e-mail carries (name, address, register
data, as German law asks of a company's business letters and e-mails).

Settings ``PORTAL_PROVIDER_*`` win; what they leave empty comes from the provider organisation
in the database, so a fresh installation still names its operator.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class ProviderIdentity:
    name: str
    address: str
    register: str
    management: str
    vat_id: str
    contact: str


def provider_identity() -> ProviderIdentity:
    from portal.models import Organisation
    from portal.roles import OrganisationKind

    provider = None
    if not (settings.PORTAL_PROVIDER_NAME and settings.PORTAL_PROVIDER_ADDRESS):
        provider = Organisation.objects.filter(kind=OrganisationKind.PROVIDER).order_by(
            "pk").first()
    address = settings.PORTAL_PROVIDER_ADDRESS
    if not address and provider is not None:
        address = ", ".join(part for part in (
            provider.street, f"{provider.postal_code} {provider.city}".strip()) if part)
    vat_id = settings.PORTAL_PROVIDER_VAT_ID or (provider.vat_id if provider else "")
    return ProviderIdentity(
        name=settings.PORTAL_PROVIDER_NAME or (provider.name if provider else settings.PORTAL_NAME),
        address=address,
        register=settings.PORTAL_PROVIDER_REGISTER,
        management=settings.PORTAL_PROVIDER_MANAGEMENT,
        vat_id=vat_id,
        contact=settings.PORTAL_PROVIDER_CONTACT,
    )
