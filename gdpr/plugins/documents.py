"""The gdpr app's document kinds (portal/documents/kinds.py): the accepted AVV and the deletion
certificate."""

from django.utils.translation import gettext_lazy

from gdpr.certificates import CERTIFICATE_DOCUMENT
from gdpr.documents import AVV_DOCUMENT
from portal.documents.kinds import DocumentKind, kinds

kinds.register(DocumentKind(AVV_DOCUMENT, gettext_lazy("Auftragsverarbeitungsvertrag (AVV)")))
kinds.register(DocumentKind(CERTIFICATE_DOCUMENT, gettext_lazy("Löschprotokoll")))
