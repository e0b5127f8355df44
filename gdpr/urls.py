"""URLs of the customer portal's "Datenschutz" pages, mounted at /datenschutz/."""

from django.urls import path

from gdpr.views import avv, contract_end, exports, notices

app_name = "gdpr"

urlpatterns = [
    path("", avv.avv_overview, name="avv"),
    path("avv/annehmen/", avv.avv_accept_view, name="avv_accept"),
    path("avv/annahme/<int:pk>/pdf/", avv.avv_pdf, name="avv_pdf"),
    path("avv/english/", avv.avv_english, name="avv_english"),
    path("toms/", avv.toms, name="toms"),
    path("unterauftragsverarbeiter/", notices.subprocessors, name="subprocessors"),
    path("mitteilungen/", notices.notices, name="notices"),
    path("mitteilungen/<int:pk>/", notices.notice_detail, name="notice"),
    path("mitteilungen/<int:pk>/widersprechen/", notices.notice_object, name="notice_object"),
    path("datenschutzbeauftragter/", avv.dpo, name="dpo"),
    path("meine-daten/", exports.my_data, name="my_data"),
    path("meine-daten/anfordern/", exports.my_data_request, name="my_data_request"),
    path("meine-daten/export/<int:pk>/", exports.export_download, name="export_download"),
    path("vertragsende/", contract_end.contract_end, name="contract_end"),
    path("vertragsende/export/", contract_end.contract_end_export, name="contract_end_export"),
    path("vertragsende/export/<int:pk>/", contract_end.customer_export_download,
         name="customer_export_download"),
]
