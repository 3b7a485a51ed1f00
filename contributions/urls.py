"""URLs of the pledge pages, mounted at /pledges/."""

from django.urls import path

from contributions.views import imports, pledges

app_name = "pledges"

urlpatterns = [
    path("", pledges.pledge_list, name="list"),
    path("export.<str:fmt>", pledges.pledge_export, name="export"),
    path("exports/", pledges.export_list, name="exports"),
    path("exports/<int:pk>/download/", pledges.export_download, name="export_download"),
    path("new/", pledges.pledge_create, name="create"),
    path("import/", imports.import_upload, name="import"),
    path("import/<int:pk>/", imports.import_preview, name="import_preview"),
    path("<int:pk>/", pledges.pledge_detail, name="detail"),
    path("<int:pk>/edit/", pledges.pledge_edit, name="edit"),
    path("<int:pk>/transition/", pledges.pledge_transition, name="transition"),
    path("<int:pk>/delete/", pledges.pledge_delete, name="delete"),
    path("<int:pk>/disbursements/new/", pledges.disbursement_create, name="disbursement_create"),
    path("<int:pk>/allocations/new/", pledges.allocation_create, name="allocation_create"),
]
