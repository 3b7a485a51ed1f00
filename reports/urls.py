"""URLs of the dashboards and their exports, mounted at the site root."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("coalitions/<slug:slug>/", views.dashboard, name="dashboard"),
    path("coalitions/<slug:slug>/export/<str:table>.csv", views.dashboard_export, name="dashboard_export"),
]
