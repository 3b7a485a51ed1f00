"""``/api/``: the v1 resources, the OpenAPI schema and its offline docs (Swagger UI from
drf-spectacular-sidecar; not Redoc, whose page loads Google Fonts)."""

from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView

from coalition.api import schema  # noqa: F401 - registers the Token scheme with drf-spectacular
from coalition.api.conditional import ConditionalGetMixin
from coalition.api.views import CoalitionViewSet, MemberViewSet
from contributions.api.decisions import DecisionViewSet
from contributions.api.views import (
    AllocationViewSet,
    DisbursementViewSet,
    ExchangeRateViewSet,
    PledgeViewSet,
    PriorityViewSet,
)
from feed.api.views import ChangeFeedView
from feed.api.webhooks import WebhookEndpointViewSet
from meetings.api.views import ActionItemViewSet, MeetingViewSet
from reports.api.views import IATIView, SummaryView

app_name = "api"


class Router(DefaultRouter):
    include_root_view = True
    include_format_suffixes = False


router = Router()
router.register("coalitions", CoalitionViewSet, basename="coalition")
router.register("members", MemberViewSet, basename="member")
router.register("pledges", PledgeViewSet, basename="pledge")
router.register("disbursements", DisbursementViewSet, basename="disbursement")
router.register("priorities", PriorityViewSet, basename="priority")
router.register("allocations", AllocationViewSet, basename="allocation")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("decisions", DecisionViewSet, basename="decision")
router.register("action-items", ActionItemViewSet, basename="action-item")
router.register("exchange-rates", ExchangeRateViewSet, basename="exchange-rate")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")


class SchemaView(ConditionalGetMixin, SpectacularAPIView):
    """The OpenAPI 3 schema (YAML; JSON with ``?format=json``), with an ETag like every API GET."""


class NotFoundView(APIView):
    """Any other address under /api/: a JSON 404 like the API's own, not the site's HTML page."""

    authentication_classes = []
    permission_classes = [AllowAny]
    schema = None

    def initial(self, request, *args, **kwargs):
        raise NotFound(_("There is no such address in the API: see /api/docs/."))


urlpatterns = [
    path("v1/summary/", SummaryView.as_view(), name="summary"),
    path("v1/changes/", ChangeFeedView.as_view(), name="changes"),
    path("v1/iati/", IATIView.as_view(), name="iati"),
    path("v1/", include(router.urls)),
    path("schema/", SchemaView.as_view(), name="schema"),
    # The split view serves the page's initializer as a script of its own: no inline script for the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Addresses without their trailing slash still get Django's redirect (APPEND_SLASH).
    re_path(r"^.*/$", NotFoundView.as_view()),
]
