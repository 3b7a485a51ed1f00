"""The public pages of coalitions that opted in, mounted at /public/: no sign-in."""

from django.urls import path

from reports import public

app_name = "public"

urlpatterns = [
    path("<slug:slug>/", public.page, name="page"),
    path("<slug:slug>/<str:table>.csv", public.table, name="table"),
    path("<slug:slug>/charts/<str:name>.svg", public.chart, name="chart"),
]
