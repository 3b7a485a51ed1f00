"""Pledges and what follows from them: disbursements, priority purchases, allocations; ECB rates."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from coalition import permissions
from coalition.models import Coalition, Member, TrackedModel
from coalition.permissions import Access, RestrictedQuerySet
from meetings.models import Decision, Meeting

MONEY = {"max_digits": 18, "decimal_places": 2}
RATE = {"max_digits": 20, "decimal_places": 8}
CURRENCY_FORMAT = Q(currency__regex=r"^[A-Z]{3}$")


class ExchangeRate(models.Model):
    """A reference rate: how many units of ``currency`` one euro bought on ``date`` (ECB convention)."""

    currency = models.CharField(_("currency"), max_length=3)
    date = models.DateField(_("date"))
    rate = models.DecimalField(_("units per EUR"), **RATE)
    source = models.CharField(_("source"), max_length=100, default="ECB")

    objects = RestrictedQuerySet.as_manager()
    #: Public reference data: read by anyone with a seat in some coalition.
    access = Access(coalition=None)

    class Meta:
        ordering = ["-date", "currency"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "date"],
                name="exchange_rate_unique_day",
                violation_error_message=_("There is already a rate for this currency and date."),
            ),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(condition=CURRENCY_FORMAT, name="exchange_rate_currency_iso"),
        ]

    def __str__(self):
        return f"1 EUR = {self.rate} {self.currency} on {self.date}"


class Pledge(TrackedModel):
    """A member's contribution to a coalition, in its own currency, with its EUR value at the rate
    of the announcement date. A pledge is published once it is announced (``published_at``); one
    withdrawn before that stays private to the secretariat and its member's editors for good."""

    class Kind(models.TextChoices):
        FINANCIAL = "financial", _("financial")
        IN_KIND = "in_kind", _("in kind")

    class Channel(models.TextChoices):
        BILATERAL = "bilateral", _("bilateral")
        TRUST_FUND = "trust_fund", _("trust fund")
        PROCUREMENT_AGENCY = "procurement_agency", _("procurement agency")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ANNOUNCED = "announced", _("announced")
        CONFIRMED = "confirmed", _("confirmed")
        DISBURSING = "disbursing", _("disbursing")
        FULFILLED = "fulfilled", _("fulfilled")
        WITHDRAWN = "withdrawn", _("withdrawn")

    #: Statuses counted in the coalition's total, and in what it has confirmed.
    COUNTED = (Status.ANNOUNCED, Status.CONFIRMED, Status.DISBURSING, Status.FULFILLED)
    CONFIRMED_STATUSES = (Status.CONFIRMED, Status.DISBURSING, Status.FULFILLED)

    coalition = models.ForeignKey(Coalition, models.PROTECT, related_name="pledges", verbose_name=_("coalition"))
    member = models.ForeignKey(Member, models.PROTECT, related_name="pledges", verbose_name=_("member"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.FINANCIAL)
    channel = models.CharField(_("channel"), max_length=24, choices=Channel.choices, default=Channel.BILATERAL)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    announced_on = models.DateField(_("announced on"))
    confirmed_on = models.DateField(_("confirmed on"), null=True, blank=True)
    confirmed_at_meeting = models.ForeignKey(
        Meeting,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="confirmed_pledges",
        verbose_name=_("confirmed at meeting"),
    )
    source = models.CharField(_("source"), max_length=500, blank=True, help_text=_("A link or document reference."))
    external_ref = models.CharField(_("external reference"), max_length=100, blank=True)
    amount_eur = models.DecimalField(_("amount (EUR)"), **MONEY)
    exchange_rate = models.DecimalField(_("exchange rate (units per EUR)"), **RATE)
    exchange_rate_date = models.DateField(_("exchange rate date"))
    exchange_rate_source = models.CharField(_("exchange rate source"), max_length=200, default="ECB")
    # Kept by the disbursement services under a row lock (the EUR figure at the pledge's own rate),
    # so lists and dashboards sum stored columns instead of joining every disbursement.
    disbursed_amount = models.DecimalField(_("disbursed amount"), default=0, **MONEY)
    disbursed_eur = models.DecimalField(_("disbursed (EUR)"), default=0, **MONEY)
    decisions = models.ManyToManyField(Decision, blank=True, related_name="pledges", verbose_name=_("decisions"))
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("status changed by"),
    )
    published_at = models.DateTimeField(
        _("published at"), null=True, blank=True, help_text=_("When the pledge was first announced (or confirmed).")
    )

    access = Access(member="member", published="published_at", owner_edits=True, outward=())
    #: What pledge_update changes; the status moves only through the transitions.
    editable_fields = (
        "title",
        "description",
        "kind",
        "channel",
        "amount",
        "currency",
        "announced_on",
        "confirmed_on",
        "confirmed_at_meeting",
        "source",
        "external_ref",
        "exchange_rate",
        "exchange_rate_source",
    )

    class Meta:
        ordering = ["-announced_on", "-id"]
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")
        # Every ordering the lists offer, with the id that breaks its ties, alone (a partner reading
        # every coalition it sits in) and after the coalition (``?coalition=``): a keyset page walks
        # one of them and stops after a page of rows, at any depth (tests/contributions/test_plans.py).
        indexes = [
            models.Index(fields=["coalition", "status", "amount_eur", "id"], name="pledge_coal_status_eur"),
            models.Index(fields=["coalition", "status", "announced_on", "id"], name="pledge_coal_status_ann"),
            models.Index(fields=["coalition", "member", "announced_on", "id"], name="pledge_coal_member_ann"),
            # A member's oldest published pledge awaiting confirmation, its first entry (the dashboard's
            # member table): one probe per member, however many of its pledges are confirmed.
            models.Index(
                fields=["coalition", "member", "announced_on"],
                condition=Q(status="announced", published_at__isnull=False),
                name="pledge_awaiting",
            ),
            *(
                index
                for field in ("announced_on", "confirmed_on", "amount_eur", "amount", "status", "title", "updated_at")
                for index in (
                    models.Index(fields=[field, "id"], name=f"pledge_{field}_id"),
                    models.Index(fields=["coalition", field, "id"], name=f"pledge_coal_{field}_id"),
                )
            ),
            models.Index(fields=["external_ref"], name="pledge_external_ref"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="pledge_amount_positive",
                violation_error_message=_("The amount must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(amount_eur__gt=0),
                name="pledge_amount_eur_positive",
                violation_error_message=_("The EUR value must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(exchange_rate__gt=0),
                name="pledge_exchange_rate_positive",
                violation_error_message=_("The exchange rate must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=CURRENCY_FORMAT,
                name="pledge_currency_iso",
                violation_error_message=_("The currency must be an ISO 4217 code such as EUR or USD."),
            ),
            models.CheckConstraint(
                condition=Q(disbursed_amount__gte=0) & Q(disbursed_amount__lte=F("amount")),
                name="pledge_disbursed_within_amount",
                violation_error_message=_("Disbursements cannot exceed the pledged amount."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "announced", "confirmed", "disbursing", "fulfilled", "withdrawn"]),
                name="pledge_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(confirmed_on__isnull=True) | Q(confirmed_on__gte=F("announced_on")),
                name="pledge_confirmed_after_announced",
                violation_error_message=_("A pledge cannot be confirmed before it was announced."),
            ),
            models.UniqueConstraint(
                fields=["coalition", "external_ref"],
                condition=~Q(external_ref=""),
                name="pledge_unique_external_ref",
                violation_error_message=_("Another pledge of this coalition has this external reference."),
            ),
        ]

    def __str__(self):
        return f"{self.member.code}: {self.title} ({self.amount} {self.currency})"

    @property
    def remaining_amount(self):
        return self.amount - self.disbursed_amount


class Disbursement(TrackedModel):
    """Money actually paid out against a pledge, in the pledge's currency."""

    pledge = models.ForeignKey(Pledge, models.CASCADE, related_name="disbursements", verbose_name=_("pledge"))
    amount = models.DecimalField(_("amount"), **MONEY)
    date = models.DateField(_("date"))
    reference = models.CharField(_("reference"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    #: Read and written like the pledge it is paid against.
    access = Pledge.access.through("pledge")
    editable_fields = ("amount", "date", "reference", "note")

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["date", "id"], name="disbursement_date_id"),
            models.Index(fields=["amount", "id"], name="disbursement_amount_id"),
        ]
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="disbursement_amount_positive",
                violation_error_message=_("The amount must be greater than zero."),
            ),
        ]

    def __str__(self):
        return f"{self.amount} on {self.date} against pledge {self.pledge_id}"


class PriorityPurchase(TrackedModel):
    """Something the coalition has agreed to buy, ranked, with its estimated cost in EUR."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        APPROVED = "approved", _("approved")
        IN_PROCUREMENT = "in_procurement", _("in procurement")
        CONTRACTED = "contracted", _("contracted")
        DELIVERED = "delivered", _("delivered")
        DROPPED = "dropped", _("dropped")

    #: Ranked priorities: ranks are unique among these within a coalition.
    ACTIVE = (Status.PROPOSED, Status.APPROVED, Status.IN_PROCUREMENT, Status.CONTRACTED)

    coalition = models.ForeignKey(Coalition, models.PROTECT, related_name="priorities", verbose_name=_("coalition"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    rank = models.PositiveIntegerField(_("rank"))
    estimated_cost_eur = models.DecimalField(_("estimated cost (EUR)"), **MONEY)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED)
    approved_at_meeting = models.ForeignKey(
        Meeting,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="approved_priorities",
        verbose_name=_("approved at meeting"),
    )
    target_date = models.DateField(_("target date"), null=True, blank=True)
    decisions = models.ManyToManyField(Decision, blank=True, related_name="priorities", verbose_name=_("decisions"))

    access = Access(outward=())
    #: What priority_update changes; rank and status move through rerank and the transitions.
    editable_fields = ("title", "description", "category", "estimated_cost_eur", "target_date", "approved_at_meeting")

    class Meta:
        ordering = ["coalition", "rank"]
        verbose_name = _("priority purchase")
        verbose_name_plural = _("priority purchases")
        constraints = [
            models.CheckConstraint(
                condition=Q(estimated_cost_eur__gt=0),
                name="priority_cost_positive",
                violation_error_message=_("The estimated cost must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(rank__gte=1),
                name="priority_rank_positive",
                violation_error_message=_("Ranks start at 1."),
            ),
            models.UniqueConstraint(
                fields=["coalition", "rank"],
                condition=Q(status__in=["proposed", "approved", "in_procurement", "contracted"]),
                name="priority_unique_active_rank",
                violation_error_message=_("Another active priority of this coalition has this rank."),
            ),
        ]

    def __str__(self):
        return f"#{self.rank} {self.title}"


class Allocation(TrackedModel):
    """Part of a pledge's EUR value earmarked for a priority purchase."""

    pledge = models.ForeignKey(Pledge, models.CASCADE, related_name="allocations", verbose_name=_("pledge"))
    priority = models.ForeignKey(
        PriorityPurchase, models.CASCADE, related_name="allocations", verbose_name=_("priority purchase")
    )
    amount_eur = models.DecimalField(_("amount (EUR)"), **MONEY)
    note = models.CharField(_("note"), max_length=300, blank=True)

    #: Read like its pledge; earmarking is the secretariat's.
    access = Pledge.access.through("pledge", owner_edits=False)
    editable_fields = ("amount_eur", "note")

    class Meta:
        ordering = ["priority", "-amount_eur"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_eur__gt=0),
                name="allocation_amount_positive",
                violation_error_message=_("The amount must be greater than zero."),
            ),
            models.UniqueConstraint(
                fields=["pledge", "priority"],
                name="allocation_unique_pair",
                violation_error_message=_("This pledge is already allocated to this priority: change that allocation."),
            ),
        ]

    def __str__(self):
        return f"{self.amount_eur} EUR of pledge {self.pledge_id} to priority {self.priority_id}"


class PledgeImport(models.Model):
    """An uploaded pledge spreadsheet between its preview and its confirmation: the parsed rows, every
    row's errors, and after the confirmation its progress and outcome (who imported what, when)."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("preview")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    coalition = models.ForeignKey(Coalition, models.CASCADE, related_name="pledge_imports", verbose_name=_("coalition"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("imported by")
    )
    filename = models.CharField(_("file name"), max_length=255)
    columns = models.JSONField(_("columns"), default=list)
    rows = models.JSONField(_("rows"), default=list, help_text=_("The file's cells as text, one dict a row."))
    errors = models.JSONField(_("errors"), default=list, help_text=_("row, column and message of each problem."))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PREVIEW)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    created_count = models.PositiveIntegerField(_("pledges created"), default=0)
    updated_count = models.PositiveIntegerField(_("pledges updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("rows unchanged"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    #: An import holds unpublished figures: its uploader and the coalition's secretariat read it.
    access = Access(readers=frozenset({permissions.SECRETARIAT}), creator="created_by")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("pledge import")
        verbose_name_plural = _("pledge imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["preview", "queued", "running", "done", "failed"]),
                name="pledge_import_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.filename} into {self.coalition_id} ({self.status})"


from contributions.aggregate_models import PledgeMonthTotal, PledgeTotal, PriorityTotal  # noqa: E402
from contributions.export_models import PledgeExport  # noqa: E402

__all__ = [
    "Allocation",
    "Disbursement",
    "ExchangeRate",
    "Pledge",
    "PledgeExport",
    "PledgeImport",
    "PledgeMonthTotal",
    "PledgeTotal",
    "PriorityPurchase",
    "PriorityTotal",
]
