"""The summary's shape for the schema; the figures themselves are reports.selectors.Summary."""

from datetime import date
from decimal import Decimal

from rest_framework import serializers

from contributions.models import Pledge, PriorityPurchase


def money(**kwargs):
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def share(**kwargs):
    return serializers.DecimalField(max_digits=9, decimal_places=4, **kwargs)


class StatusRowSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Pledge.Status.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()
    amount_eur = money()


class MemberRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    total_eur = money()
    confirmed_eur = money()
    disbursed_eur = money()
    share = share(help_text="The member's part of total_eur (0-1).")


class MonthRowSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="First day of the month.")
    announced_eur = money()
    confirmed_eur = money()
    cumulative_total_eur = money()
    cumulative_confirmed_eur = money()


class PriorityRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    rank = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=PriorityPurchase.Status.choices)
    category = serializers.CharField()
    estimated_cost_eur = money()
    allocated_eur = money()
    coverage = share()
    gap_eur = money()


class SummarySerializer(serializers.Serializer):
    coalition = serializers.CharField(help_text="The coalition's slug.")
    target_eur = money(allow_null=True)
    total_eur = money(help_text="Every pledge neither draft nor withdrawn.")
    confirmed_eur = money(help_text="Confirmed, disbursing and fulfilled pledges.")
    announced_eur = money(help_text="Announced, not yet confirmed.")
    disbursed_eur = money()
    gap_eur = money(allow_null=True, help_text="Target minus confirmed (never below zero); null without a target.")
    progress = share(allow_null=True, help_text="Confirmed ÷ target; null without a target.")
    pledge_count = serializers.IntegerField()
    by_status = StatusRowSerializer(many=True)
    by_member = MemberRowSerializer(many=True)
    by_month = MonthRowSerializer(many=True)
    priorities = PriorityRowSerializer(many=True)


def jsonable(value):
    """A Summary (as a dict) in JSON's terms: Decimals as strings, dates as ISO text."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value
