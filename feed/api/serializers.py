"""Shapes of the change feed's answer, for the OpenAPI schema (the feed writes its events itself)."""

from rest_framework import serializers

from coalition import changes
from feed import events


class ChangeEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="The change's number (unique; webhook deliveries name it).")
    cursor = serializers.CharField(help_text="Resume right after this event with `?cursor=`.")
    type = serializers.CharField(help_text="`<resource>.<change>`, e.g. `pledge.updated`, `pledge.hidden`.")
    resource = serializers.ChoiceField(choices=[r.name for r in changes.RESOURCES])
    key = serializers.CharField(help_text="The record's id (a member's code, a coalition's slug) in its endpoint.")
    change = serializers.ChoiceField(
        choices=["created", "updated", "deleted", events.HIDDEN],
        help_text="`hidden`: the record exists but you may no longer see it (drop it from a mirror, as for `deleted`).",
    )
    action = serializers.CharField(
        allow_null=True, help_text="The status the record moved to in this change (`held`, `confirmed`...), if any."
    )
    occurred_at = serializers.DateTimeField()
    data = serializers.DictField(
        allow_null=True,
        help_text="The record as its endpoint shows it to you now (the same serializer); null when deleted or hidden.",
    )


class ChangePageSerializer(serializers.Serializer):
    events = ChangeEventSerializer(many=True)
    next = serializers.CharField(help_text="The cursor to ask with next time: it resumes exactly after this page.")
    has_more = serializers.BooleanField(help_text="More events are waiting: ask again at once with `next`.")
