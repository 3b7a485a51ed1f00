"""Meetings of a coalition: attendance, agenda, decisions and action items."""

import dataclasses

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from coalition.models import Coalition, Member, TrackedModel, tracked_history
from coalition.permissions import Access, RestrictedQuerySet

#: Meeting records hang off their meeting's coalition.
BY_MEETING = Access(coalition="meeting__coalition")


class Meeting(TrackedModel):
    """A steering group, expert group or plenary meeting of one coalition."""

    class Kind(models.TextChoices):
        STEERING_GROUP = "steering_group", _("steering group")
        EXPERT_GROUP = "expert_group", _("expert group")
        PLENARY = "plenary", _("plenary")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("held")
        CANCELLED = "cancelled", _("cancelled")

    class MinutesStatus(models.TextChoices):
        DRAFT = "draft", _("draft")
        APPROVED = "approved", _("approved")

    coalition = models.ForeignKey(Coalition, models.PROTECT, related_name="meetings", verbose_name=_("coalition"))
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.STEERING_GROUP)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    online = models.BooleanField(_("online"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    minutes = models.TextField(_("minutes"), blank=True)
    minutes_status = models.CharField(
        _("minutes status"), max_length=16, choices=MinutesStatus.choices, default=MinutesStatus.DRAFT
    )
    held_at = models.DateTimeField(_("marked held at"), null=True, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked held by"),
    )

    #: The public page shows meetings once held (a planned meeting's place and agenda stay inside).
    access = Access(outward=(("status", "held"),))
    #: What meeting_update changes; held and cancelled are transitions.
    editable_fields = ("title", "kind", "starts_at", "ends_at", "location", "online", "minutes", "minutes_status")

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        indexes = [models.Index(fields=["coalition", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gte=F("starts_at")),
                name="meeting_ends_after_start",
                violation_error_message=_("A meeting cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["planned", "held", "cancelled"]),
                name="meeting_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"

    @property
    def minutes_published(self):
        """Approved minutes are public in the coalition; draft minutes are its internal record."""
        return self.minutes_status == self.MinutesStatus.APPROVED


class Attendance(models.Model):
    """Who was invited to a meeting and who came. Delegates' names are personal data."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("chair")
        PARTICIPANT = "participant", _("participant")
        OBSERVER = "observer", _("observer")

    class Status(models.TextChoices):
        INVITED = "invited", _("invited")
        PRESENT = "present", _("present")
        APOLOGIES = "apologies", _("apologies")

    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="attendances", verbose_name=_("meeting"))
    member = models.ForeignKey(Member, models.PROTECT, related_name="attendances", verbose_name=_("member"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.PARTICIPANT)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.INVITED)
    delegates = models.TextField(_("delegates"), blank=True, help_text=_("Names and titles, one a line."))
    history = tracked_history()

    objects = RestrictedQuerySet.as_manager()
    access = BY_MEETING

    class Meta:
        ordering = ["meeting", "member__name"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "member"],
                name="attendance_unique_member",
                violation_error_message=_("This member is already on the meeting's attendance list."),
            ),
        ]

    def __str__(self):
        return f"{self.member.code} at {self.meeting_id}: {self.status}"


class AgendaItem(models.Model):
    """One numbered item of a meeting's agenda, with its outcome."""

    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="agenda_items", verbose_name=_("meeting"))
    order = models.PositiveSmallIntegerField(_("order"))
    title = models.CharField(_("title"), max_length=300)
    notes = models.TextField(_("notes"), blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    history = tracked_history()

    objects = RestrictedQuerySet.as_manager()
    access = BY_MEETING

    class Meta:
        ordering = ["meeting", "order"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "order"],
                name="agenda_item_unique_order",
                violation_error_message=_("Another agenda item already has this number."),
            ),
        ]

    def __str__(self):
        return f"{self.order}. {self.title}"


class Decision(models.Model):
    """What a meeting decided. The pledges and priorities it concerns point back to it."""

    class Kind(models.TextChoices):
        PRIORITY_SET = "priority_set", _("priority set")
        PLEDGE_CONFIRMED = "pledge_confirmed", _("pledge confirmed")
        OTHER = "other", _("other")

    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="decisions", verbose_name=_("meeting"))
    text = models.TextField(_("text"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tracked_history()

    objects = RestrictedQuerySet.as_manager()
    #: Public once the meeting was held and its minutes approved: the decisions are then the record.
    access = dataclasses.replace(
        BY_MEETING, outward=(("meeting__status", "held"), ("meeting__minutes_status", "approved"))
    )
    editable_fields = ("text", "kind")

    class Meta:
        ordering = ["meeting", "id"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self):
        return self.text[:80]


class ActionItem(TrackedModel):
    """A next step agreed at a meeting, owned by a member; open ones follow to the next meeting."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")
        DROPPED = "dropped", _("dropped")

    meeting = models.ForeignKey(Meeting, models.CASCADE, related_name="action_items", verbose_name=_("meeting"))
    text = models.TextField(_("text"))
    owner = models.ForeignKey(
        Member, models.SET_NULL, null=True, blank=True, related_name="action_items", verbose_name=_("owner")
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)

    access = BY_MEETING
    editable_fields = ("text", "owner", "due_on", "status")

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return self.text[:80]
