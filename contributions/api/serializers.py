"""Serializers of pledges, disbursements, priority purchases, allocations and exchange rates.

They check shape only (types, choices, codes and ids the user may see); contributions.services
decides the rest and its ValidationError comes back as a 400 naming the field.
"""

from decimal import Decimal

from rest_framework import serializers

from coalition.api.serializers import (
    APISerializer,
    EditableFieldsMixin,
    UTCDateTimeField,
    VersionSerializer,
    VisibleRecordField,
    attribute,
    coalition_field,
    decimal_text,
    iso_date,
    iso_datetime,
    member_field,
    version_field,
)
from contributions import selectors
from contributions.models import Allocation, Disbursement, Pledge, PriorityPurchase
from meetings.models import Meeting

FOUR_PLACES = Decimal("0.0001")
COALITION_COLUMNS = (("coalition_slug", "coalition.slug"), ("coalition_name", "coalition.name"))
MEMBER_COLUMNS = (("member_code", "member.code"), ("member_name", "member.name"))
CHANGE_BY_ACTION = "Status changes go through the actions: POST /api/v1/pledges/{id}/announce/, /confirm/ or /withdraw/ (disbursing and fulfilled follow from disbursements)."  # noqa: E501


def money(**kwargs):
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def rate(**kwargs):
    return serializers.DecimalField(max_digits=20, decimal_places=8, **kwargs)


def meeting_field(**kwargs):
    return VisibleRecordField(
        queryset=Meeting.objects.all(),
        allow_null=True,
        **kwargs,
    )


def pledge_field(**kwargs):
    return VisibleRecordField(queryset=Pledge.objects.all(), **kwargs)


def priority_field(**kwargs):
    return VisibleRecordField(
        queryset=PriorityPurchase.objects.all(),
        **kwargs,
    )


class FixedFieldsMixin:
    """Update serializers accept the record's fixed fields back unchanged (a client may PUT what it
    read) and refuse a change to them with a message saying what to do instead."""

    #: field name -> (function giving the record's current value, message when it differs)
    fixed = {}

    def validate(self, attrs):
        errors = {}
        for name, (current, message) in self.fixed.items():
            if name in attrs and attrs[name] != current(self.instance):
                errors[name] = [message.format(id=self.instance.pk)]
            attrs.pop(name, None)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


# --- Pledges ---------------------------------------------------------------------------------------


#: What a pledge's representation (and its CSV) reads: the list fetches these with ``values()``
#: (no model instances for thousands of rows); a single pledge is read into the same shape.
PLEDGE_ROW = (
    "id",
    "coalition__slug",
    "coalition__name",
    "member__code",
    "member__name",
    "title",
    "description",
    "kind",
    "channel",
    "amount",
    "currency",
    "status",
    "announced_on",
    "confirmed_on",
    "confirmed_at_meeting_id",
    "source",
    "external_ref",
    "exchange_rate",
    "exchange_rate_source",
    "amount_eur",
    "exchange_rate_date",
    "disbursed_amount",
    "created_at",
    "updated_at",
    "version",
)


class PledgeSerializer(APISerializer):
    """A member's pledge to a coalition, in its currency, with its EUR value at the ECB rate of its
    announcement date."""

    id = serializers.IntegerField(read_only=True)
    coalition = coalition_field()
    member = member_field()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=Pledge.Kind.choices, required=False)
    channel = serializers.ChoiceField(choices=Pledge.Channel.choices, required=False)
    amount = money(help_text='In `currency`, as a string with at most two decimals, e.g. "1250000.00".')
    currency = serializers.CharField(help_text="ISO 4217 code, e.g. EUR, USD.")
    status = serializers.ChoiceField(
        choices=Pledge.Status.choices,
        required=False,
        help_text="A new pledge is draft (the default), announced or confirmed; later changes go through the "
        "announce, confirm and withdraw actions.",
    )
    announced_on = serializers.DateField()
    confirmed_on = serializers.DateField(required=False, allow_null=True)
    confirmed_at_meeting = meeting_field(required=False, help_text="Id of the meeting that confirmed it.")
    source = serializers.CharField(max_length=500, required=False, allow_blank=True)
    external_ref = serializers.CharField(max_length=100, required=False, allow_blank=True)
    exchange_rate = rate(
        required=False,
        allow_null=True,
        help_text="Units of `currency` per EUR. Leave it out: the ECB rate of `announced_on` (or the last one "
        "published in the 14 days before) is used. Give it, with `exchange_rate_source`, only for a currency "
        "and date the ECB has no rate for.",
    )
    exchange_rate_source = serializers.CharField(max_length=200, required=False, allow_blank=True)
    amount_eur = money(read_only=True, help_text="The EUR value at `exchange_rate`, rounded half up to the cent.")
    exchange_rate_date = serializers.DateField(read_only=True)
    disbursed_amount = money(read_only=True)
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        csv_expand = {"coalition": COALITION_COLUMNS, "member": MEMBER_COLUMNS}

    def to_representation(self, p):
        if not isinstance(p, dict):
            p = {name: attribute(p, name.replace("__", ".")) for name in PLEDGE_ROW}
        return {
            "id": p["id"],
            "coalition": p["coalition__slug"],
            "member": p["member__code"],
            "title": p["title"],
            "description": p["description"],
            "kind": p["kind"],
            "channel": p["channel"],
            "amount": decimal_text(p["amount"]),
            "currency": p["currency"],
            "status": p["status"],
            "announced_on": iso_date(p["announced_on"]),
            "confirmed_on": iso_date(p["confirmed_on"]),
            "confirmed_at_meeting": p["confirmed_at_meeting_id"],
            "source": p["source"],
            "external_ref": p["external_ref"],
            "exchange_rate": decimal_text(p["exchange_rate"]),
            "exchange_rate_source": p["exchange_rate_source"],
            "amount_eur": decimal_text(p["amount_eur"]),
            "exchange_rate_date": iso_date(p["exchange_rate_date"]),
            "disbursed_amount": decimal_text(p["disbursed_amount"]),
            "created_at": iso_datetime(p["created_at"]),
            "updated_at": iso_datetime(p["updated_at"]),
            "version": p["version"],
        }


class PledgeUpdateSerializer(FixedFieldsMixin, EditableFieldsMixin, APISerializer):
    """A change to a pledge; the EUR value is recomputed when the amount, currency or date change."""

    coalition = serializers.CharField(required=False, help_text="Cannot change; accepted back unchanged.")
    member = serializers.CharField(required=False, help_text="Cannot change; accepted back unchanged.")
    status = serializers.ChoiceField(
        choices=Pledge.Status.choices, required=False, help_text="Cannot change here: " + CHANGE_BY_ACTION
    )
    # The service checks the code against ISO 4217 and says so: no length rule of its own here.
    currency = serializers.CharField(help_text="ISO 4217 code, e.g. EUR, USD.")
    version = version_field()

    class Meta:
        model = Pledge
        # An explicit rate is optional (the ECB's is used without it) and its source may be left empty.
        field_kwargs = {
            "exchange_rate": {"required": False, "allow_null": True},
            "exchange_rate_source": {"required": False, "allow_blank": True},
        }

    fixed = {
        "coalition": (
            lambda p: p.coalition.slug,
            "A pledge stays in its coalition: withdraw it and record a new one in the other coalition.",
        ),
        "member": (lambda p: p.member.code, "A pledge stays with its member: withdraw it and record a new one."),
        "status": (lambda p: p.status, CHANGE_BY_ACTION),
    }


class PledgeConfirmSerializer(VersionSerializer):
    """Confirm a pledge: the version you read, and optionally when and at which meeting."""

    confirmed_on = serializers.DateField(
        required=False, allow_null=True, help_text="Default: today, or the meeting's day."
    )
    meeting = meeting_field(required=False, help_text="Id of the meeting that confirmed it.")


# --- Disbursements ---------------------------------------------------------------------------------


class DisbursementSerializer(APISerializer):
    """Money paid against a pledge, in the pledge's currency."""

    id = serializers.IntegerField(read_only=True)
    pledge = pledge_field(help_text="Id of the pledge paid against (confirmed or disbursing).")
    coalition = serializers.CharField(read_only=True, help_text="The pledge's coalition (slug).")
    member = serializers.CharField(read_only=True, help_text="The pledge's member (code).")
    amount = money(help_text="In the pledge's currency.")
    currency = serializers.CharField(read_only=True, help_text="The pledge's currency.")
    date = serializers.DateField()
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        csv_expand = {
            "pledge": (("pledge_id", "pledge.pk"), ("pledge_title", "pledge.title")),
            "coalition": (("coalition_slug", "pledge.coalition.slug"), ("coalition_name", "pledge.coalition.name")),
            "member": (("member_code", "pledge.member.code"), ("member_name", "pledge.member.name")),
        }

    def to_representation(self, d):
        pledge = d.pledge
        return {
            "id": d.pk,
            "pledge": d.pledge_id,
            "coalition": pledge.coalition.slug,
            "member": pledge.member.code,
            "amount": decimal_text(d.amount),
            "currency": pledge.currency,
            "date": iso_date(d.date),
            "reference": d.reference,
            "note": d.note,
            "created_at": iso_datetime(d.created_at),
            "updated_at": iso_datetime(d.updated_at),
            "version": d.version,
        }


class DisbursementUpdateSerializer(FixedFieldsMixin, EditableFieldsMixin, APISerializer):
    """A correction to a disbursement."""

    pledge = serializers.IntegerField(required=False, help_text="Cannot change; accepted back unchanged.")
    version = version_field()

    class Meta:
        model = Disbursement

    fixed = {
        "pledge": (
            lambda d: d.pledge_id,
            "A disbursement stays with its pledge: delete it and record it against the right one.",
        )
    }


# --- Priority purchases ----------------------------------------------------------------------------


class PrioritySerializer(APISerializer):
    """A priority purchase with what is allocated to it, its coverage and its unfunded gap."""

    id = serializers.IntegerField(read_only=True)
    coalition = coalition_field()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    rank = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, help_text="Default: after the last active priority."
    )
    estimated_cost_eur = money()
    status = serializers.ChoiceField(
        choices=PriorityPurchase.Status.choices,
        required=False,
        help_text="A new priority is proposed (the default) or approved; later, POST .../transition/.",
    )
    approved_at_meeting = meeting_field(required=False)
    target_date = serializers.DateField(required=False, allow_null=True)
    allocated_eur = money(read_only=True, help_text="EUR allocated from published, not withdrawn pledges.")
    coverage = serializers.DecimalField(
        max_digits=9, decimal_places=4, read_only=True, help_text="allocated_eur ÷ estimated_cost_eur."
    )
    gap_eur = money(read_only=True, help_text="What is still unfunded (never below zero).")
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        csv_expand = {"coalition": COALITION_COLUMNS}

    def to_representation(self, p):
        return {
            "id": p.pk,
            "coalition": p.coalition.slug,
            "title": p.title,
            "description": p.description,
            "category": p.category,
            "rank": p.rank,
            "estimated_cost_eur": decimal_text(p.estimated_cost_eur),
            "status": p.status,
            "approved_at_meeting": p.approved_at_meeting_id,
            "target_date": iso_date(p.target_date),
            "allocated_eur": decimal_text(p.allocated_eur),
            "coverage": decimal_text(selectors.coverage(p.allocated_eur, p.estimated_cost_eur).quantize(FOUR_PLACES)),
            "gap_eur": decimal_text(p.gap_eur),
            "created_at": iso_datetime(p.created_at),
            "updated_at": iso_datetime(p.updated_at),
            "version": p.version,
        }


class PriorityUpdateSerializer(FixedFieldsMixin, EditableFieldsMixin, APISerializer):
    """A change to a priority purchase (rank and status have their own actions)."""

    coalition = serializers.CharField(required=False, help_text="Cannot change; accepted back unchanged.")
    rank = serializers.IntegerField(required=False, help_text="Cannot change here: POST /api/v1/priorities/rerank/.")
    status = serializers.ChoiceField(
        choices=PriorityPurchase.Status.choices,
        required=False,
        help_text="Cannot change here: POST /api/v1/priorities/{id}/transition/.",
    )
    version = version_field()

    class Meta:
        model = PriorityPurchase

    fixed = {
        "coalition": (lambda p: p.coalition.slug, "A priority stays in its coalition."),
        "rank": (lambda p: p.rank, "Ranks change for the whole list at once: POST /api/v1/priorities/rerank/."),
        "status": (lambda p: p.status, "Status changes go through POST /api/v1/priorities/{id}/transition/."),
    }


class PriorityTransitionSerializer(VersionSerializer):
    """Move a priority along procurement: the new status and the version you read."""

    status = serializers.ChoiceField(
        choices=PriorityPurchase.Status.choices,
        help_text="proposed → approved → in_procurement → contracted → delivered, or dropped from any active state.",
    )
    meeting = meeting_field(required=False, help_text="For approved: the meeting that approved it.")


class PriorityRerankSerializer(serializers.Serializer):
    """A coalition's active priorities in their new order."""

    coalition = coalition_field()
    ordered_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        max_length=1000,
        help_text="Every active priority of the coalition, once, in the new order.",
    )


# --- Allocations -----------------------------------------------------------------------------------


class AllocationSerializer(APISerializer):
    """Part of a pledge's EUR value earmarked for a priority purchase."""

    id = serializers.IntegerField(read_only=True)
    pledge = pledge_field(help_text="Id of a published pledge.")
    priority = priority_field(help_text="Id of a priority purchase of the pledge's coalition.")
    coalition = serializers.CharField(read_only=True)
    member = serializers.CharField(read_only=True)
    amount_eur = money(help_text="Part of the pledge's EUR value earmarked for the priority.")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        csv_expand = {
            "pledge": (("pledge_id", "pledge.pk"), ("pledge_title", "pledge.title")),
            "priority": (("priority_id", "priority.pk"), ("priority_title", "priority.title")),
            "coalition": (("coalition_slug", "pledge.coalition.slug"), ("coalition_name", "pledge.coalition.name")),
            "member": (("member_code", "pledge.member.code"), ("member_name", "pledge.member.name")),
        }

    def to_representation(self, a):
        return {
            "id": a.pk,
            "pledge": a.pledge_id,
            "priority": a.priority_id,
            "coalition": a.pledge.coalition.slug,
            "member": a.pledge.member.code,
            "amount_eur": decimal_text(a.amount_eur),
            "note": a.note,
            "created_at": iso_datetime(a.created_at),
            "updated_at": iso_datetime(a.updated_at),
            "version": a.version,
        }


class AllocationUpdateSerializer(FixedFieldsMixin, EditableFieldsMixin, APISerializer):
    """A change to an allocation's amount or note."""

    pledge = serializers.IntegerField(required=False, help_text="Cannot change; accepted back unchanged.")
    priority = serializers.IntegerField(required=False, help_text="Cannot change; accepted back unchanged.")
    version = version_field()

    class Meta:
        model = Allocation

    fixed = {
        "pledge": (lambda a: a.pledge_id, "An allocation stays with its pledge: delete it and allocate anew."),
        "priority": (lambda a: a.priority_id, "An allocation stays with its priority: delete it and allocate anew."),
    }


# --- Exchange rates --------------------------------------------------------------------------------


class ExchangeRateSerializer(APISerializer):
    """An ECB euro reference rate."""

    id = serializers.IntegerField(read_only=True)
    currency = serializers.CharField(read_only=True)
    date = serializers.DateField(read_only=True)
    rate = rate(read_only=True, help_text="Units of `currency` one euro bought (ECB convention).")
    source = serializers.CharField(read_only=True)

    def to_representation(self, r):
        return {
            "id": r.pk,
            "currency": r.currency,
            "date": iso_date(r.date),
            "rate": decimal_text(r.rate),
            "source": r.source,
        }
