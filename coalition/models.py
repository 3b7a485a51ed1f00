"""Coalitions, their members and the people who work in them (a seat: a role in one coalition)."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from coalition import permissions
from coalition.permissions import Access, RestrictedHistoricalQuerySet, RestrictedQuerySet


def tracked_history(**options):
    """simple_history for a record read through the visibility layer: its history rows are restricted
    as their record's history (``Pledge.history.visible_to(user)``)."""
    return HistoricalRecords(historical_queryset=RestrictedHistoricalQuerySet, **options)


class TrackedModel(models.Model):
    """What every record people edit repeats: a version for optimistic concurrency (a stale write is
    refused), when it was created and last changed (indexed: partners pull what changed since), and a
    history of every change with who made it. Subclasses declare ``access`` (coalition.permissions)
    and ``editable_fields``, the one list their update service, form, serializer and admin share."""

    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    history = tracked_history(inherit=True, excluded_fields=["updated_at"])

    objects = RestrictedQuerySet.as_manager()
    #: The fields the record's update service accepts (and its form, serializer and admin show).
    editable_fields = ()

    class Meta:
        abstract = True


class Coalition(models.Model):
    """A capability coalition: every pledge, meeting and priority hangs off one."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    target_eur = models.DecimalField(_("target (EUR)"), max_digits=18, decimal_places=2, null=True, blank=True)
    reporting_currency = models.CharField(_("reporting currency"), max_length=3, default="EUR")
    public = models.BooleanField(
        _("public page"),
        default=False,
        help_text=_("Publish the coalition's published figures, priorities and held meetings at /public/<slug>/."),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(coalition="pk", outward=())
    #: What coalition_update changes (the slug is the coalition's address and stays).
    editable_fields = ("name", "description", "target_eur", "public")

    class Meta:
        ordering = ["name"]
        verbose_name = _("coalition")
        verbose_name_plural = _("coalitions")
        constraints = [
            models.CheckConstraint(
                condition=Q(target_eur__isnull=True) | Q(target_eur__gt=0),
                name="coalition_target_positive",
                violation_error_message=_("The target must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(reporting_currency="EUR"),
                name="coalition_reporting_currency_eur",
                violation_error_message=_("Coalitions report in EUR."),
            ),
        ]

    def __str__(self):
        return self.name


#: An IATI organisation identifier: the registration agency's code from IATI's
#: OrganisationRegistrationAgency codelist (a country or ``XM``/``XI`` prefix, a dash, the register's
#: code: ``XM-DAC``, ``GB-COH``) then a dash and the organisation's number in that register, with none
#: of the characters the standard forbids in identifiers (spaces, ``/``, ``&``, ``|``, ``?``).
IATI_ORG_IDENTIFIER = re.compile(r"^[A-Z]{2}-[A-Z0-9]{2,}-[^\s/&|?]+$")


def validate_iati_identifier(value):
    """Refuse what cannot be an IATI organisation identifier (empty is fine: not every member has one)."""
    if value and not IATI_ORG_IDENTIFIER.fullmatch(value):
        raise ValidationError(
            _(
                "Enter an IATI organisation identifier: the registration agency's code, a dash and the "
                "number in that register, such as XM-DAC-41114 or GB-COH-123456 (no spaces, / & | or ?)."
            ),
            code="iati_identifier",
        )


class Member(models.Model):
    """A country (ISO 3166-1 alpha-2 code) or an organisation (NATO, EU, ...) taking part."""

    class Kind(models.TextChoices):
        COUNTRY = "country", _("country")
        ORGANISATION = "organisation", _("organisation")

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COUNTRY)
    iati_identifier = models.CharField(
        _("IATI organisation identifier"),
        max_length=100,
        blank=True,
        validators=[validate_iati_identifier],
        help_text=_("Its identifier in the IATI organisation registry, such as XM-DAC-41114 or GB-COH-123456."),
    )

    objects = RestrictedQuerySet.as_manager()
    #: Members are shared: each is read by whoever works in a coalition it sits in.
    access = Access(coalition="memberships__coalition", many=True, outward=())
    #: What member_update changes (the code is referenced everywhere and stays).
    editable_fields = ("name", "kind", "iati_identifier")

    class Meta:
        ordering = ["name"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="organisation", code__regex=r"^[A-Z][A-Z0-9]{1,11}$")
                | Q(kind="country", code__regex=r"^[A-Z]{2}$"),
                name="member_code_format",
                violation_error_message=_(
                    "A country's code is its ISO 3166-1 alpha-2 code (two capital letters); "
                    "an organisation's is capital letters and digits."
                ),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Membership(models.Model):
    """A member's seat in a coalition: lead, member or observer."""

    class Role(models.TextChoices):
        LEAD = "lead", _("lead")
        MEMBER = "member", _("member")
        OBSERVER = "observer", _("observer")

    member = models.ForeignKey(Member, models.CASCADE, related_name="memberships", verbose_name=_("member"))
    coalition = models.ForeignKey(Coalition, models.CASCADE, related_name="memberships", verbose_name=_("coalition"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    since = models.DateField(_("since"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access()

    class Meta:
        ordering = ["coalition", "role", "member__name"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "coalition"],
                name="membership_unique_pair",
                violation_error_message=_("This member already belongs to this coalition."),
            ),
        ]

    def __str__(self):
        return f"{self.member.code} in {self.coalition.slug} ({self.role})"


class Seat(models.Model):
    """A person's role in one coalition, and for a member editor the member they speak for there.

    One seat per user and coalition: the Estonian official who is secretariat of one coalition may sit
    on another's steering group. Every permission follows from the seats (coalition.permissions).
    """

    class Role(models.TextChoices):
        SECRETARIAT = permissions.SECRETARIAT, _("secretariat")
        MEMBER_EDITOR = permissions.MEMBER_EDITOR, _("member editor")
        STEERING = permissions.STEERING, _("steering group")
        PARTNER = permissions.PARTNER, _("partner")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="seats", verbose_name=_("user"))
    coalition = models.ForeignKey(Coalition, models.CASCADE, related_name="seats", verbose_name=_("coalition"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    member = models.ForeignKey(
        Member,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="seats",
        verbose_name=_("member"),
        help_text=_("The member a member editor speaks for in this coalition (only for member editors)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = tracked_history(excluded_fields=["updated_at"])

    objects = RestrictedQuerySet.as_manager()
    access = Access(readers=frozenset({permissions.SECRETARIAT}))

    class Meta:
        ordering = ["coalition", "user__username"]
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "coalition"],
                name="seat_one_per_user_and_coalition",
                violation_error_message=_("This person already has a seat in this coalition: change its role."),
            ),
            models.CheckConstraint(
                condition=Q(role__in=permissions.ROLES),
                name="seat_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(role=permissions.MEMBER_EDITOR, member__isnull=False)
                | (~Q(role=permissions.MEMBER_EDITOR) & Q(member__isnull=True)),
                name="seat_member_for_editors_only",
                violation_error_message=_("A member editor speaks for a member; other roles speak for none."),
            ),
        ]

    def __str__(self):
        member = f" for {self.member.code}" if self.member_id else ""
        return f"{self.user} in {self.coalition.slug}: {self.role}{member}"


class Profile(models.Model):
    """A user's preferences: the language their report emails are written in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="profile", verbose_name=_("user")
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self):
        return f"profile of {self.user}"


class APIKey(models.Model):
    """A partner's key for the REST API. Only a SHA-256 digest is stored; the key is shown once."""

    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_keys", verbose_name=_("owner")
    )
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(coalition=None, personal="owner")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.prefix}…) of {self.owner}"

    @property
    def is_active(self):
        return self.revoked_at is None


class OutboxMessage(models.Model):
    """A task a write asked for, stored in the writer's own transaction (so a rolled-back change asks
    for nothing) and handed to the broker after the commit, then again by beat's sweep until the task
    has run: a broker that is down, restarted or loses its queue delays the work but never drops it.
    The tasks are idempotent (their own ledgers and status checks), so a second run is harmless."""

    task = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    dispatched_at = models.DateTimeField(_("last handed to the broker at"), null=True, blank=True)
    dispatches = models.PositiveIntegerField(_("times handed to the broker"), default=0)
    done_at = models.DateTimeField(_("ran at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    request_id = models.CharField(_("request id"), max_length=128, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["dispatched_at", "created_at"],
                condition=Q(done_at__isnull=True),
                name="outbox_pending",
            ),
        ]

    def __str__(self):
        return f"{self.task}({self.kwargs}) #{self.pk}"


class SecurityEvent(models.Model):
    """One entry of the security log: a sign-in, a failed or refused one, a second-factor change, an API
    key issued or revoked, a seat changed; who, when, from where. Kept SECURITY_LOG_RETENTION_DAYS."""

    class Kind(models.TextChoices):
        SIGNIN = "signin", _("signed in")
        SIGNIN_FAILED = "signin-failed", _("sign-in failed")
        LOCKED_OUT = "locked-out", _("sign-in refused: too many failures")
        UNLOCKED = "unlocked", _("sign-in unlocked")
        SIGNOUT = "signout", _("signed out")
        MFA_FAILED = "mfa-failed", _("second factor refused")
        MFA_ADDED = "mfa-added", _("second factor added")
        MFA_REMOVED = "mfa-removed", _("second factor removed")
        MFA_RESET = "mfa-reset", _("recovery codes regenerated")
        PASSWORD_CHANGED = "password-changed", _("password changed")
        API_KEY_CREATED = "api-key-created", _("API key issued")
        API_KEY_REVOKED = "api-key-revoked", _("API key revoked")
        SEAT_CHANGED = "seat-changed", _("seat changed")

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="security_events",
        verbose_name=_("user"),
    )
    username = models.CharField(_("user name given"), max_length=150, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("security event")
        verbose_name_plural = _("security log")
        indexes = [models.Index(fields=["user", "-created_at"], name="securityevent_user_idx")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.username}"


class Change(models.Model):
    """One entry of the change feed (``GET /api/v1/changes/``): a record of a resource was created,
    updated or deleted, written in the writer's own transaction (``coalition.changes``).

    The feed is ordered by ``txid`` (the writer's PostgreSQL transaction id), then ``id``; a reader
    hands out only rows of transactions that have ended (``coalition.changes`` says why that makes the
    cursor exact). The row keeps what the visibility layer needs to decide who may learn of
    the change after the record itself is gone: its coalition, the member that owns it and when it was
    published, as they were at the change; ``audience`` names the one user a row is for (the records a
    person's seat change made visible or invisible to them).
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        DELETED = "deleted", _("deleted")

    id = models.BigAutoField(primary_key=True)
    resource = models.CharField(_("resource"), max_length=32)
    key = models.CharField(_("record"), max_length=80, help_text=_("The id (or code, or slug) the API names it by."))
    kind = models.CharField(_("change"), max_length=16, choices=Kind.choices)
    action = models.CharField(_("transition"), max_length=32, blank=True)
    coalition_id = models.BigIntegerField(_("coalition"), null=True, blank=True)
    member_id = models.BigIntegerField(_("member"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    audience = models.BigIntegerField(_("for user"), null=True, blank=True)
    txid = models.BigIntegerField(_("transaction"), default=0)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["txid", "id"]
        indexes = [models.Index(fields=["txid", "id"], name="change_feed_order")]
        verbose_name = _("change")
        verbose_name_plural = _("changes")

    def __str__(self):
        return f"#{self.pk} {self.resource} {self.key} {self.kind}"


class FormerSeat(models.Model):
    """A seat as it was until a change took it away or replaced it, and where in the change feed that
    happened (``ended_txid``, ``ended_row``: the feed's position of the change, ``coalition.changes``).

    The feed judges a change row by what its reader may see now, and also by every seat they held
    when the row was written: a pledge deleted just before a member editor became a partner is still
    told to them as deleted, though as a partner they could never have seen the draft, because their
    mirror held it. Kept as plain ids, like the change rows, so it outlives what it names.
    """

    user_id = models.BigIntegerField(_("user"))
    coalition_id = models.BigIntegerField(_("coalition"))
    role = models.CharField(_("role"), max_length=16)
    member_id = models.BigIntegerField(_("member"), null=True, blank=True)
    ended_txid = models.BigIntegerField(_("ended at transaction"), default=0)
    ended_row = models.BigIntegerField(_("ended after change row"), default=0)
    ended_at = models.DateTimeField(_("ended at"), default=timezone.now)

    class Meta:
        ordering = ["ended_txid", "ended_row", "id"]
        indexes = [models.Index(fields=["user_id", "ended_txid", "ended_row"], name="former_seat_by_user")]
        verbose_name = _("former seat")
        verbose_name_plural = _("former seats")

    def __str__(self):
        return f"user {self.user_id} was {self.role} in coalition {self.coalition_id}"


class CoalitionStamp(models.Model):
    """A counter moved (coalition.stamps.bump) by every write that changes what a coalition's figures
    show: its pledges' totals, priorities, members and their names, the coalition itself. The cache
    key of its dashboard figures and summary."""

    coalition = models.OneToOneField(
        Coalition, models.CASCADE, primary_key=True, related_name="+", verbose_name=_("coalition")
    )
    stamp = models.BigIntegerField(_("change stamp"), default=0)

    class Meta:
        verbose_name = _("coalition change stamp")
        verbose_name_plural = _("coalition change stamps")

    def __str__(self):
        return f"{self.coalition_id}: {self.stamp}"
