"""The base of every API viewset: reads through the user's visible querysets, writes through the
services, conditional GET, CSV lists, and the version a client must send back when it updates."""

import django_filters
from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from coalition.api.conditional import ConditionalGetMixin
from coalition.api.parsers import DecimalJSONParser
from coalition.api.permissions import CoalitionAPIPermission
from coalition.api.renderers import BrowsableAPIRenderer, CSVRenderer, JSONRenderer

#: Primary keys are bigint: a larger number in a URL names no record (and must not reach the database).
MAX_PK = 2**63 - 1
VERSION_REQUIRED = _(
    "This field is required: send the version you read (the record's `version`), so that a change "
    "someone made since is not overwritten."
)


def refuse_nul_characters(request):
    """A NUL character is in no code, slug or text the portal stores, and PostgreSQL refuses it in a
    query: a 400 names the parameter rather than a 500."""
    for name, values in request.query_params.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise ValidationError({name.replace("\x00", "") or "query": [_("Null characters are not allowed.")]})


def refuse_empty_typed_filters(request, filterset_class):
    """An empty value for a filter that takes a date, a number or a choice is not that type: the HTML
    lists read it as "no filter" (their forms send every field), the API refuses it, as its schema says."""
    if filterset_class is None:
        return
    for name, declared in filterset_class.base_filters.items():
        if name not in request.query_params or issubclass(declared.field_class, forms.CharField):
            continue
        if isinstance(declared, django_filters.OrderingFilter):
            continue  # a comma-separated list: empty is the empty list
        if any(not value.strip() for value in request.query_params.getlist(name)):
            raise ValidationError({name: [_("Give a value, or leave the parameter out.")]})


def latest_update(objects):
    """The newest ``updated_at`` among ``objects`` (model instances or ``values()`` rows), or None."""
    stamps = [obj.get("updated_at") if isinstance(obj, dict) else getattr(obj, "updated_at", None) for obj in objects]
    stamps = [stamp for stamp in stamps if stamp is not None]
    return max(stamps) if stamps else None


def version_from_query(request):
    """The optional ``?version=N`` of a DELETE."""
    raw = request.query_params.get("version")
    if raw in (None, ""):
        return None
    if not raw.isdigit() or int(raw) > MAX_PK:
        raise ValidationError({"version": [_("Send the record's version as a whole number.")]})
    return int(raw)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, skipped when the request names none of the filter set's parameters:
    an unfiltered list (a partner's poll) builds no filter set and no form, the biggest fixed part
    of a page once the rows are read by keyset (a filter set deep-copies its filters and makes a
    form class on every request). Filter sets here apply nothing without a parameter."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not _names_a_filter(request.query_params, filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _names_a_filter(params, filters):
    # A range filter reads NAME_min / NAME_max (NAME_after / NAME_before...): a prefix counts.
    return any(param == name or param.startswith(f"{name}_") for param in params for name in filters)


class APIViewSet(ConditionalGetMixin, viewsets.GenericViewSet):
    """List and detail; subclasses add the write mixins below and say which services they call.

    ``serializer_class`` reads and creates; ``update_serializer_class`` validates PUT and PATCH;
    ``action_serializers`` maps extra actions (``confirm``...) to the serializer of their body.
    """

    permission_classes = [CoalitionAPIPermission]
    filter_backends = [FilterBackend]
    parser_classes = [DecimalJSONParser]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    #: None: read-only. Otherwise the scope of coalition.permissions.can_write_api a writer needs.
    write_scope = None
    update_serializer_class = None
    action_serializers = {}

    # --- plumbing ---------------------------------------------------------------------------------

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_nul_characters(request)
        refuse_empty_typed_filters(request, getattr(self, "filterset_class", None))
        # An empty ?format= names no format (the schema's enum): a 400, not the default JSON.
        if any(not value.strip() for value in request.query_params.getlist("format")):
            raise ValidationError({"format": [_("Give a value, or leave the parameter out.")]})

    def get_serializer_class(self):
        if self.action in ("update", "partial_update") and self.update_serializer_class is not None:
            return self.update_serializer_class
        return self.action_serializers.get(self.action, self.serializer_class)

    def get_renderers(self):
        renderers = super().get_renderers()
        # No action: a method the view does not offer, answered 405 (not 404 for ?format=csv) below.
        if self.action not in ("list", None):
            renderers = [renderer for renderer in renderers if not isinstance(renderer, CSVRenderer)]
        return renderers

    def get_object(self):
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        if self.lookup_field == "pk" and (not str(lookup).isdigit() or int(lookup) > MAX_PK):
            raise NotFound()
        return super().get_object()

    def represent(self, instance):
        """The record as a reader sees it, read again through the list's queryset (annotations and all)."""
        instance = self.get_queryset().get(pk=instance.pk)
        return self.serializer_class(instance, context=self.get_serializer_context()).data

    def represent_response(self, instance):
        return Response(self.represent(instance))

    def list_response(self, queryset):
        """An unpaged list (the answer of a write that changed several records)."""
        return Response(self.serializer_class(queryset, many=True, context=self.get_serializer_context()).data)

    # --- reads ------------------------------------------------------------------------------------

    def list_rows(self, queryset):
        """What a list page reads: model instances, or ``values()`` rows where a view's serializer
        reads those (no model instances to build for thousands of rows)."""
        return queryset

    def list(self, request, *args, **kwargs):
        # A 304 first: its ETag was given to a request whose filters were valid (a 400 carries none),
        # so a match needs no filter set built; "*" matches anything, so its filters are checked first.
        if request.headers.get("If-None-Match", "").strip() == "*":
            self.filter_queryset(self.get_queryset())
            check_query = getattr(self.paginator, "check_query", None)
            if check_query is not None:
                check_query(request)
        not_modified = self.fingerprint_not_modified(request)
        if not_modified is not None:
            return not_modified
        filtered = self.filter_queryset(self.get_queryset())
        csv = getattr(request.accepted_renderer, "format", None) == "csv"
        # The count (asked for, or in a CSV's X-Total-Count) reads the filtered rows, not list_rows' joins.
        page = self.paginator.paginate_queryset(
            self.list_rows(filtered), request, view=self, count_queryset=filtered, force_count=csv
        )
        self.last_modified = latest_update(page)
        serializer = self.get_serializer(page, many=True)
        if csv:
            return self._csv_response(page, serializer)
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        self.last_modified = getattr(instance, "updated_at", None)
        return Response(self.get_serializer(instance).data)

    def _csv_response(self, page, serializer):
        child = serializer.child
        rows = [child.csv_row(obj, data) for obj, data in zip(page, serializer.data, strict=True)]
        response = Response({"header": child.csv_header(), "rows": rows})
        paginator = self.paginator
        links = [
            f'<{url}>; rel="{rel}"'
            for url, rel in ((paginator.get_next_link(), "next"), (paginator.get_previous_link(), "prev"))
            if url
        ]
        if links:
            response["Link"] = ", ".join(links)
        response["X-Total-Count"] = str(paginator.count)
        response["Content-Disposition"] = f'inline; filename="{self.basename}.csv"'
        return response

    # --- writes -----------------------------------------------------------------------------------

    def validated(self, serializer_class=None, instance=None, partial=False, require_version=False):
        """The request body checked for shape by the action's serializer; services check the rest.

        With ``require_version`` the body must carry the ``version`` the client read (PUT, PATCH and
        the transitions), even for a PATCH, where DRF would otherwise treat every field as optional.
        """
        serializer_class = serializer_class or self.get_serializer_class()
        serializer = serializer_class(
            instance, data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if require_version and "version" in serializer.fields and "version" not in data:
            raise ValidationError({"version": [VERSION_REQUIRED]})
        return data


class CreateMixin:
    def create(self, request, *args, **kwargs):
        data = self.validated()
        with transaction.atomic():
            instance = self.perform_create(data)
        return Response(self.represent(instance), status=status.HTTP_201_CREATED)

    def perform_create(self, data):
        raise NotImplementedError


class UpdateMixin:
    def update(self, request, *args, partial=False, **kwargs):
        instance = self.get_object()
        data = self.validated(instance=instance, partial=partial, require_version=True)
        version = data.pop("version", None)
        with transaction.atomic():
            instance = self.perform_update(instance, data, version=version)
        return Response(self.represent(instance))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_update(self, instance, data, *, version):
        raise NotImplementedError


class DestroyMixin:
    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        version = version_from_query(request)
        with transaction.atomic():
            self.perform_destroy(instance, version=version)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, instance, *, version):
        raise NotImplementedError
