"""URLs of the priority purchase pages, mounted at /priorities/."""

from django.urls import path

from contributions.views import priorities as views

app_name = "priorities"

urlpatterns = [
    path("", views.priority_list, name="list"),
    path("export.<str:fmt>", views.priority_export, name="export"),
    path("new/", views.priority_create, name="create"),
    path("<int:pk>/", views.priority_detail, name="detail"),
    path("<int:pk>/edit/", views.priority_edit, name="edit"),
    path("<int:pk>/transition/", views.priority_transition, name="transition"),
    path("<int:pk>/move/", views.priority_move, name="move"),
]
