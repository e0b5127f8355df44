"""URLs of the contract self-service in the customer portal, mounted at /vertrag/."""

from django.urls import path

from contracts.views import booking, catalogue, contract, documents

app_name = "contracts"

urlpatterns = [
    path("", contract.contract_detail, name="contract"),
    path("kuendigen/", contract.contract_cancel_view, name="cancel"),
    path("sonderkuendigung/<int:pk>/", contract.special_termination,
         name="special_termination"),
    path("uebersicht.pdf", documents.contract_summary_pdf, name="summary_pdf"),
    path("leistungen/", catalogue.catalogue, name="catalogue"),
    path("buchen/", booking.book, name="book"),
    path("buchung/<int:pk>/entfernen/", booking.remove, name="remove"),
    path("buchung/<int:pk>/zuruecknehmen/", booking.withdraw, name="withdraw"),
    path("buchung/<int:pk>/stufe/", booking.change_tier, name="change_tier"),
]
