"""``/api/v1/summary/?coalition=SLUG``: the dashboard's figures, from the dashboard's own selector."""

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from coalition import permissions
from coalition.api import schema
from coalition.api.conditional import ConditionalGetMixin
from coalition.api.permissions import CoalitionAPIPermission
from coalition.api.renderers import BrowsableAPIRenderer
from coalition.api.viewsets import refuse_nul_characters
from coalition.models import Coalition
from reports import figures, iati
from reports.api.serializers import SummarySerializer, jsonable
from reports.forms import STATUS_CHOICES, DashboardFilterForm
from reports.selectors import coalition_summary


class SummaryView(ConditionalGetMixin, APIView):
    """The dashboard's figures of one coalition."""

    permission_classes = [CoalitionAPIPermission]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_nul_characters(request)

    @extend_schema(
        summary="A coalition's figures",
        description="What the dashboard shows: totals (never drafts), by status, by member, by month, and the "
        "priority purchases with their coverage and gap. The same selector as the dashboard, so the two agree.",
        parameters=[
            OpenApiParameter(
                "coalition",
                {"type": "string", "minLength": 1, "pattern": r"^[-a-zA-Z0-9_]+$"},
                required=True,
                description="The coalition's slug.",
            ),
            OpenApiParameter(
                "announced_after", OpenApiTypes.DATE, description="Count pledges announced on or after this day."
            ),
            OpenApiParameter(
                "announced_before", OpenApiTypes.DATE, description="Count pledges announced on or before this day."
            ),
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                many=True,
                explode=True,
                enum=[value for value, _label in STATUS_CHOICES],
                description="Count only pledges in these statuses (repeat the parameter).",
            ),
            schema.IF_NONE_MATCH,
        ],
        responses={**schema.read_responses(SummarySerializer), 400: schema.BAD_REQUEST},
    )
    def get(self, request):
        slug = request.query_params.get("coalition", "").strip()
        if not slug:
            raise ValidationError({"coalition": [_("This parameter is required: ?coalition=SLUG.")]})
        coalition = permissions.get_visible(Coalition.objects.all(), request.user, slug=slug)
        # The dashboard's own filter form, so the two read the same parameters the same way.
        form = DashboardFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(
                {field: [str(message) for message in messages] for field, messages in form.errors.items()}
            )
        filters = form.summary_filters()
        key = figures.fingerprint("summary", coalition, request.user, filters)
        return Response(figures.cached(key, lambda: jsonable(coalition_summary(coalition, **filters).as_dict())))


class XMLRenderer(BaseRenderer):
    """Bytes already serialised as XML (the IATI document), passed through."""

    media_type = "application/xml"
    format = "xml"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class IATIView(ConditionalGetMixin, APIView):
    """A coalition's published money as an IATI 2.03 activity file."""

    permission_classes = [CoalitionAPIPermission]
    renderer_classes = [XMLRenderer, JSONRenderer]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_nul_characters(request)

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors answer JSON, as everywhere in the API; the document itself is XML.
        if response.status_code >= 400:
            request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        summary="A coalition's IATI 2.03 activity file",
        description="An `iati-activities` document (version 2.03): one activity per priority purchase and one "
        "for unallocated money, the members as funding organisations, a commitment (transaction type 2) per "
        "confirmed pledge and a disbursement (type 3) per disbursement, in their original currencies with their "
        "value dates. Published records only; `python manage.py export_iati SLUG` writes the same document.",
        parameters=[
            OpenApiParameter(
                "coalition",
                {"type": "string", "minLength": 1, "pattern": r"^[-a-zA-Z0-9_]+$"},
                required=True,
                description="The coalition's slug.",
            ),
            schema.IF_NONE_MATCH,
        ],
        responses={
            **{
                status: response
                for status, response in schema.read_responses(OpenApiTypes.STR).items()
                if status != 200
            },
            (200, "application/xml"): OpenApiTypes.STR,
            400: schema.BAD_REQUEST,
        },
    )
    def get(self, request):
        slug = request.query_params.get("coalition", "").strip()
        if not slug:
            raise ValidationError({"coalition": [_("This parameter is required: ?coalition=SLUG.")]})
        coalition = permissions.get_visible(Coalition.objects.all(), request.user, slug=slug)
        # The document is bytes already: answered as they are, whatever renderer was negotiated.
        response = HttpResponse(iati.to_bytes(coalition), content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{coalition.slug}-iati.xml"'
        return response
