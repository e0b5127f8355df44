"""URLs of the device inventory in the customer portal, mounted at /geraete/."""

from django.urls import path

from devices.views import exports, imports, inventory

app_name = "devices"

urlpatterns = [
    path("", inventory.device_list, name="list"),
    path("neu/", inventory.device_add, name="add"),
    path("<int:pk>/", inventory.device_detail, name="detail"),
    path("<int:pk>/bearbeiten/", inventory.device_edit, name="edit"),
    path("<int:pk>/ausmustern/", inventory.device_retire_view, name="retire"),
    path("import/", imports.import_upload, name="import"),
    path("import/<uuid:public_id>/", imports.import_detail, name="import_detail"),
    path("import/<uuid:public_id>/uebernehmen/", imports.import_confirm, name="import_confirm"),
    path("import/<uuid:public_id>/abbrechen/", imports.import_cancel, name="import_cancel"),
    path("export/", exports.export, name="export"),
]
