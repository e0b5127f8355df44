"""Documents (DESIGN "Documents"): a Django template rendered to PDF with WeasyPrint from
bundled fonts and files only (``render``), stored with its SHA-256 and its customer
(``models``, ``services``) and served by one tenant-checked download view (``views``).
The model belongs to the ``portal`` app (imported by ``portal.models``)."""

import logging

# WeasyPrint reports every step of every render (and of its own stylesheets, when it is
# imported) at INFO, the portal's default level; set before ``render`` imports it.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
