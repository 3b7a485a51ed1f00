"""URLs of the meeting pages, mounted at /meetings/."""

from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("", views.meeting_list, name="list"),
    path("new/", views.meeting_create, name="create"),
    path("calendar.ics", views.calendar_ics, name="calendar"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>.ics", views.meeting_ics, name="ics"),
    path("<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("<int:pk>/held/", views.meeting_mark_held, name="mark_held"),
    path("<int:pk>/cancel/", views.meeting_cancel, name="cancel"),
    path("<int:pk>/attendance/", views.attendance_set, name="attendance"),
    path("<int:pk>/agenda/", views.agenda_item_add, name="agenda"),
    path("<int:pk>/action-items/", views.action_item_add, name="action_item"),
    path("<int:pk>/action-items/<int:item_pk>/status/", views.action_item_status, name="action_item_status"),
]
