"""Legal holds in the core's deletion jobs: a customer under a hold of all its data keeps its
expired audit events and access-log entries until the hold is released (portal.registries
deletion_holds; the purge and the retained records' job ask gdpr/selectors/holds.py
directly)."""

from gdpr.selectors.holds import customers_held
from portal.registries import DeletionHold, deletion_holds

deletion_holds.register(DeletionHold(key="gdpr.legal_holds", held_organisations=customers_held))
