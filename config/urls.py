"""Root URLs: the web portal, the admin, the API and the health check."""

from allauth.account import views as account_views
from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.i18n import set_language

from config import health, metrics, signin
from meetings import views as meeting_views
from reports import member_views

# The admin signs in through the portal's sign-in (password, failed-attempt limits, second factor).
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    # django-allauth signs people in; Django's names "login" and "logout" stay, for links and LOGIN_URL.
    path("accounts/login/", account_views.login, name="login"),
    path("accounts/logout/", account_views.logout, name="logout"),
    path(
        "accounts/2fa/recovery-codes/download/",
        signin.download_recovery_codes_once,
        name="mfa_download_recovery_codes",
    ),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", login_not_required(lambda request: HttpResponsePermanentRedirect(static("favicon.svg")))),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("health/", health.ready, name="health"),
    path("health/live", health.live, name="health_live"),
    path("health/ready", health.ready, name="health_ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/", include("config.api")),
    path("pledges/", include("contributions.urls")),
    path("priorities/", include("contributions.urls_priorities")),
    path("meetings/", include("meetings.urls")),
    path("meetings/", include("contributions.urls_decisions")),
    path("coalitions/<slug:slug>/calendar.ics", meeting_views.calendar_ics, name="coalition_calendar"),
    path("members/<str:code>/", member_views.member_detail, name="member_detail"),
    path("public/", include("reports.urls_public")),
    path("", include("reports.urls")),
]

handler500 = "config.errors.server_error"
