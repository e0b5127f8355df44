"""The DPO's start page as a section of the admin index (portal/registries.py)."""

from portal.registries import PAGE_ADMIN_INDEX, Section, sections


def _dpo_start(request):
    from gdpr.admin.dpo import dpo_start_section

    return dpo_start_section(request)


sections.register(Section(page=PAGE_ADMIN_INDEX, key="gdpr.dpo_start", order=10,
                          template="admin/gdpr/_dpo_start.html", context=_dpo_start))
