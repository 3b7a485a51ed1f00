"""Reads behind the report emails: who receives a report, what changed in a digest's window, what a
meeting summary shows, and the secretariat's delivery log."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Prefetch

from coalition import permissions
from contributions.models import Disbursement, Pledge
from contributions.rates import part_in_eur
from meetings.models import ActionItem, Attendance, Decision, Meeting
from reports.models import Delivery, Subscription

ZERO = Decimal("0.00")
S = Pledge.Status


@dataclass(frozen=True)
class Recipient:
    """An address a report goes to, with the user behind it (if any) and the language to write in."""

    email: str
    user: object = None
    language: str = settings.LANGUAGE_CODE


def _language(user):
    profile = getattr(user, "profile", None) if user is not None else None
    return getattr(profile, "language", None) or settings.LANGUAGE_CODE


def report_recipients(report, coalition):
    """Active users with an address who subscribed to ``report`` of ``coalition`` and may still
    receive it (a user who lost the role keeps the row but gets nothing)."""
    subscriptions = (
        Subscription.objects.filter(report=report, coalition=coalition, user__is_active=True)
        .exclude(user__email="")
        .select_related("user__profile")
        .order_by("user__email", "user_id")
    )
    return [
        Recipient(email=sub.user.email.strip().lower(), user=sub.user, language=_language(sub.user))
        for sub in subscriptions
        if permissions.can_receive_report(sub.user, coalition, report)
    ]


def recipient_for_address(email):
    """One address asked for by hand: the active user with that address speaks their language."""
    email = email.strip().lower()
    user = (
        get_user_model()
        .objects.filter(email__iexact=email, is_active=True)
        .select_related("profile")
        .order_by("pk")
        .first()
    )
    return Recipient(email=email, user=user, language=_language(user))


@dataclass(frozen=True)
class DisbursementRow:
    disbursement: Disbursement
    amount_eur: Decimal


@dataclass
class DigestChanges:
    """Pledges that became public, were confirmed or withdrawn, and disbursements recorded, in
    ``[start, end)``: each list holds its largest ``limit`` lines (the email stays readable and light
    after a busy week), with the count and EUR total of all of them."""

    new: list = field(default_factory=list)
    confirmed: list = field(default_factory=list)
    withdrawn: list = field(default_factory=list)
    disbursements: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    totals: dict = field(default_factory=dict)

    def keep(self, name, rows, amount, limit):
        """Store ``rows`` (largest first) as ``name``: the first ``limit`` of them, their count and total."""
        self.counts[name] = len(rows)
        self.totals[name] = sum((amount(row) for row in rows), ZERO)
        setattr(self, name, rows[:limit])

    @property
    def new_eur(self):
        return self.totals.get("new", ZERO)

    @property
    def confirmed_eur(self):
        return self.totals.get("confirmed", ZERO)

    @property
    def withdrawn_eur(self):
        return self.totals.get("withdrawn", ZERO)

    @property
    def disbursed_eur(self):
        return self.totals.get("disbursements", ZERO)

    @property
    def more(self):
        """``{name: lines left out}`` for the lists that were cut."""
        return {name: count - len(getattr(self, name)) for name, count in self.counts.items()}

    @property
    def is_empty(self):
        return not any(self.counts.values())


def digest_changes(coalition, start, end, limit=None):
    """What changed between two digests, read from the published part of the pledge history: each
    pledge's status when the window opened against its status when it closed (four queries whatever
    the window holds). A pledge published in the window is new; one withdrawn before it was ever
    published is never listed (the visibility layer's ``published()``)."""
    changed_ids = set(
        Pledge.history.published()
        .filter(coalition=coalition, history_date__gte=start, history_date__lt=end)
        .values_list("id", flat=True)
    )
    before, after = {}, {}
    rows = (
        Pledge.history.published()
        .filter(id__in=changed_ids, history_date__lt=end)
        .order_by("id", "history_date", "history_id")
        .values_list("id", "history_date", "history_type", "status")
    )
    for pledge_id, when, kind, status in rows:
        state = None if kind == "-" else status
        if when < start:
            before[pledge_id] = state
        after[pledge_id] = state
    limit = limit or settings.REPORTS_DIGEST_MAX_LINES
    pledges = Pledge.objects.published().filter(pk__in=changed_ids).select_related("member", "confirmed_at_meeting")
    sections = {"new": [], "confirmed": [], "withdrawn": []}
    for pledge in sorted(pledges, key=lambda p: (-p.amount_eur, p.member.name, p.pk)):
        was, now = before.get(pledge.pk), after.get(pledge.pk)
        if now is None:
            continue
        if was is None and now in Pledge.COUNTED:
            sections["new"].append(pledge)
        if was not in Pledge.CONFIRMED_STATUSES and now in Pledge.CONFIRMED_STATUSES:
            sections["confirmed"].append(pledge)
        if now == S.WITHDRAWN and was != S.WITHDRAWN:
            sections["withdrawn"].append(pledge)
    changes = DigestChanges()
    for name, rows in sections.items():
        changes.keep(name, rows, lambda pledge: pledge.amount_eur, limit)
    disbursements = (
        Disbursement.objects.published()
        .filter(pledge__coalition=coalition, created_at__gte=start, created_at__lt=end)
        .select_related("pledge__member")
        .order_by("date", "pk")
    )
    rows = [
        DisbursementRow(
            disbursement=d,
            amount_eur=part_in_eur(
                d.amount, whole=d.pledge.amount, whole_eur=d.pledge.amount_eur, rate=d.pledge.exchange_rate
            ),
        )
        for d in disbursements
    ]
    changes.keep("disbursements", rows, lambda row: row.amount_eur, limit)
    return changes


def meeting_for_summary(meeting_id):
    """A meeting with what its summary shows: attendance, decisions, action items and the pledges
    confirmed there (no delegates' names: the email leaves the portal)."""
    return (
        Meeting.objects.select_related("coalition")
        .prefetch_related(
            Prefetch("attendances", queryset=Attendance.objects.select_related("member").order_by("member__name")),
            Prefetch("decisions", queryset=Decision.objects.order_by("pk")),
            Prefetch("action_items", queryset=ActionItem.objects.select_related("owner").order_by("due_on", "pk")),
            Prefetch(
                "confirmed_pledges",
                queryset=Pledge.objects.published()
                .filter(status__in=Pledge.CONFIRMED_STATUSES)
                .select_related("member")
                .order_by("-amount_eur", "pk"),
            ),
        )
        .filter(pk=meeting_id)
        .first()
    )


def pledge_for_notice(pledge_id):
    return Pledge.objects.select_related("coalition", "member", "confirmed_at_meeting").filter(pk=pledge_id).first()


def delivery_list(user):
    """Deliveries of the coalitions whose secretariat the user is, newest first."""
    return Delivery.objects.visible_to(user).select_related("coalition", "user")


def user_subscriptions(user):
    """``{(coalition_id, report)}`` the user receives."""
    return set(Subscription.objects.filter(user=user).values_list("coalition_id", "report"))
