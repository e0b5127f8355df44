"""The customer portal's "Datenschutz" pages (mounted at /datenschutz/): the AVV with its
acceptance, the TOMs, the sub-processor register with its pending changes, the change notices
received and the DPO's contact.

The views read through ``visible_to`` (gdpr/selectors) and write through the services
(``gdpr.services.avv``, ``portal.change_notices.services``), which check the role again;
customer members, partner support and provider staff only read.
"""
