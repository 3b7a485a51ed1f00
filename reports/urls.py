"""URLs of the dashboards and their exports, mounted at the site root."""

from django.urls import path

from reports import email_views, views

app_name = "reports"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/profile/", email_views.profile, name="profile"),
    path("reports/unsubscribe/<str:token>/", email_views.unsubscribe, name="unsubscribe"),
    path("reports/deliveries/", email_views.delivery_list, name="deliveries"),
    path("reports/deliveries/<int:pk>/retry/", email_views.delivery_retry, name="delivery_retry"),
    path("coalitions/<slug:slug>/", views.dashboard, name="dashboard"),
    path("coalitions/<slug:slug>/export/<str:table>.csv", views.dashboard_export, name="dashboard_export"),
    path("coalitions/<slug:slug>/public/", views.dashboard_public, name="dashboard_public"),
]
