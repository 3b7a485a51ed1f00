"""URLs of the decision form, mounted at /meetings/ beside the meeting pages it belongs to."""

from django.urls import path

from contributions.views import decisions

app_name = "decisions"

urlpatterns = [
    path("<int:pk>/decisions/new/", decisions.decision_create, name="create"),
]
