"""The accepted AVV as a document kind (portal/documents/kinds.py)."""

from django.utils.translation import gettext_lazy

from gdpr.documents import AVV_DOCUMENT
from portal.documents.kinds import DocumentKind, kinds

kinds.register(DocumentKind(AVV_DOCUMENT, gettext_lazy("Auftragsverarbeitungsvertrag (AVV)")))
