"""``/api/v1/summary/?coalition=SLUG``: the dashboard's figures, from the dashboard's own selector."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from coalition import permissions
from coalition.api import schema
from coalition.api.conditional import ConditionalGetMixin
from coalition.api.permissions import CoalitionAPIPermission
from coalition.models import Coalition
from reports.api.serializers import SummarySerializer, jsonable
from reports.selectors import coalition_summary


class SummaryView(ConditionalGetMixin, APIView):
    permission_classes = [CoalitionAPIPermission]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    @extend_schema(
        summary="A coalition's figures",
        description="What the dashboard shows: totals (never drafts), by status, by member, by month, and the "
        "priority purchases with their coverage and gap. The same selector as the dashboard, so the two agree.",
        parameters=[
            OpenApiParameter("coalition", OpenApiTypes.STR, required=True, description="The coalition's slug."),
            schema.IF_NONE_MATCH,
        ],
        responses={**schema.read_responses(SummarySerializer), 400: schema.BAD_REQUEST},
    )
    def get(self, request):
        slug = request.query_params.get("coalition", "").strip()
        if not slug:
            raise ValidationError({"coalition": [_("This parameter is required: ?coalition=SLUG.")]})
        coalition = permissions.record_for_view(request.user, Coalition.objects.all(), slug, field="pk", lookup="slug")
        if not permissions.can_read_coalition(request.user, coalition):
            raise Http404(_("No such coalition."))
        return Response(jsonable(coalition_summary(coalition).as_dict()))
