"""The DPO's start page as sections of the admin index (portal/registries.py): the overview,
then the deletion certificates and legal holds."""

from portal.registries import PAGE_ADMIN_INDEX, Section, sections


def _dpo_start(request):
    from gdpr.admin.dpo import dpo_start_section

    return dpo_start_section(request)


def _purge_start(request):
    from gdpr.admin.certificates import purge_start_section

    return purge_start_section(request)


sections.register(Section(page=PAGE_ADMIN_INDEX, key="gdpr.dpo_start", order=10,
                          template="admin/gdpr/_dpo_start.html", context=_dpo_start))
sections.register(Section(page=PAGE_ADMIN_INDEX, key="gdpr.dpo_purge", order=11,
                          template="admin/gdpr/_dpo_purge.html", context=_purge_start))
