"""``GET /api/v1/changes/``: the change feed a partner's mirror follows."""

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from coalition.api import schema
from coalition.api.conditional import ConditionalGetMixin
from coalition.api.permissions import CoalitionAPIPermission
from coalition.api.renderers import BrowsableAPIRenderer
from coalition.api.viewsets import refuse_nul_characters
from feed import events
from feed.api.serializers import ChangePageSerializer


def _limit(request):
    raw = request.query_params.get("limit")
    if raw in (None, ""):
        return events.DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= events.MAX_LIMIT:
        raise ValidationError({"limit": [_("Give a whole number from 1 to %(max)s.") % {"max": events.MAX_LIMIT}]})
    return int(raw)


RESPONSES = {**schema.read_responses(ChangePageSerializer), 400: schema.BAD_REQUEST}


class ChangeFeedView(ConditionalGetMixin, APIView):
    """Every change you may see, in commit order, from a cursor."""

    permission_classes = [CoalitionAPIPermission]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_nul_characters(request)

    @extend_schema(
        summary="Changes since a cursor",
        description=(
            "Every change to the records you may see (coalitions, members, pledges, disbursements, priorities, "
            "allocations, meetings, decisions, action items), in the order the changes were committed. Each "
            "event carries the record as its own endpoint shows it to you now, or says it was `deleted` or is "
            "`hidden` from you now (a pledge withdrawn before it was published, a seat taken away). Start "
            "without a cursor, apply the events in order (store `data` by `resource` and `key`; drop the "
            "record on `deleted` and `hidden`), keep `next`, and ask again with it: the feed resumes exactly "
            "there, without gaps or repeats, even when writes commit out of order. A mirror kept so equals a "
            "fresh listing of every endpoint."
        ),
        parameters=[
            OpenApiParameter(
                "cursor", OpenApiTypes.STR, description="`next` of the previous answer (none: from the start)."
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": events.MAX_LIMIT},
                description=f"Events per answer (default {events.DEFAULT_LIMIT}).",
            ),
            schema.IF_NONE_MATCH,
        ],
        responses=RESPONSES,
    )
    def get(self, request):
        try:
            after = events.decode_cursor(request.query_params.get("cursor", ""))
        except events.BadCursor as exc:
            raise ValidationError({"cursor": [str(exc)]}) from exc
        items, position, has_more = events.page(request.user, after, _limit(request), request=request)
        return Response({"events": items, "next": events.encode_cursor(position), "has_more": has_more})
