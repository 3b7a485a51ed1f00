"""Root URLs: the web portal, the admin, the API and the health check."""

from django.contrib import admin
from django.urls import include, path

from coalition import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("health/", views.health, name="health"),
]
