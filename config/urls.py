"""Root URLs: the web portal, the admin, the API and the health check."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from config import health
from meetings import views as meeting_views
from reports import member_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("health/", health.ready, name="health"),
    path("health/live", health.live, name="health_live"),
    path("health/ready", health.ready, name="health_ready"),
    path("api/", include("config.api")),
    path("pledges/", include("contributions.urls")),
    path("priorities/", include("contributions.urls_priorities")),
    path("meetings/", include("meetings.urls")),
    path("meetings/", include("contributions.urls_decisions")),
    path("coalitions/<slug:slug>/calendar.ics", meeting_views.calendar_ics, name="coalition_calendar"),
    path("members/<str:code>/", member_views.member_detail, name="member_detail"),
    path("", include("reports.urls")),
]

handler500 = "config.errors.server_error"
