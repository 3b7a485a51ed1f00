"""Serializers of coalitions and members, and the base every API serializer builds on.

Serializers check the shape of what comes in (types, choices, codes that exist); the services decide
everything else. Reads are hot (a partner pulls thousands of rows), so each serializer writes its
``to_representation`` by hand from attributes already loaded: the declared fields still document the
schema and validate input, and tests/coalition/test_api_serializers.py checks that both agree.
"""

from datetime import UTC

from django.db import models
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from coalition.models import Coalition, Member, Membership


def iso_datetime(value):
    """A datetime as DRF writes it with ``default_timezone=UTC``: ISO 8601, ``Z`` for UTC."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def iso_date(value):
    return None if value is None else value.isoformat()


def decimal_text(value):
    """Money and rates travel as strings, so no client reads them through a float."""
    return None if value is None else str(value)


def attribute(obj, path):
    """``obj.a.b`` for the path ``a.b``; for a ``values()`` row, ``obj["a__b"]``."""
    if isinstance(obj, dict):
        return obj.get(path.replace(".", "__"))
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def version_field():
    return serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text="The version you read. A stale one is refused with 409 (the record changed since).",
    )


class VersionSerializer(serializers.Serializer):
    """The body of a transition: the version the client read."""

    version = version_field()


class APISerializer(serializers.Serializer):
    # No docstring: drf-spectacular would give it to every subclass's schema component.
    # ``Meta.csv_expand`` names the columns a code becomes in CSV, e.g. ``member`` → ``member_code``
    # and ``member_name``, each read from the record by an attribute path.

    class Meta:
        csv_expand = {}

    def to_internal_value(self, data):
        # JSON has types, and the schema names them: text is a string, a count a number, a flag a
        # boolean. DRF would read 0 as "0", "5" as 5 and "yes" as true; such values are refused here.
        if type(data) is dict:  # a JSON object (a browsable page's form posts text for everything)
            errors = {}
            for field in self.fields.values():
                value = data.get(field.field_name)
                if field.read_only or value is None:
                    continue
                expected = _json_type(field)
                if expected is not None and not expected(value):
                    errors[field.field_name] = [str(_WRONG_TYPE[expected])]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def csv_header(self):
        expand = getattr(self.Meta, "csv_expand", {})
        header = []
        for name, field in self.fields.items():
            if field.write_only:
                continue
            header.extend(column for column, _path in expand.get(name, ((name, None),)))
        return header

    def csv_row(self, instance, data):
        expand = getattr(self.Meta, "csv_expand", {})
        row = dict(data)
        for name, columns in expand.items():
            row.pop(name, None)
            for column, path in columns:
                row[column] = attribute(instance, path)
        return row


def _is_text(value):
    return isinstance(value, str)


def _is_whole_number(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_flag(value):
    return isinstance(value, bool)


_WRONG_TYPE = {
    _is_text: _("Send text, as a JSON string."),
    _is_whole_number: _("Send a whole number, as a JSON number."),
    _is_flag: _("Send true or false."),
}


def _json_type(field):
    """The check of the JSON type ``field`` takes, or None where DRF's own reading is strict enough
    (choices, dates, decimals: money may come as a JSON number, read exactly)."""
    if isinstance(field, serializers.ChoiceField | serializers.ManyRelatedField | serializers.RelatedField):
        return None
    if isinstance(field, serializers.CharField):
        return _is_text
    if isinstance(field, serializers.BooleanField):
        return _is_flag
    if isinstance(field, serializers.IntegerField):
        return _is_whole_number
    return None


class UTCDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time; one without an offset is UTC (never the portal's time zone)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)


class ReadNullableCharField(serializers.CharField):
    """Text that may read as null (it is hidden from this reader) but may not be sent as null: the
    model stores text, blank at the least. The schema says so per direction (coalition.api.schema)."""

    def __init__(self, **kwargs):
        kwargs["allow_null"] = False
        super().__init__(**kwargs)


class EditableFieldsMixin:
    """For update serializers: the fields of ``Meta.model.editable_fields`` (the list its update service
    accepts and its form and admin show) are built from the model by ModelSerializer's rules (type,
    length, choices, nullability, help text), with ``Meta.field_kwargs[name]`` adjusting one. A field
    declared on the class wins: ``version``, fixed fields, or a field the API words differently."""

    def get_fields(self):
        meta = type(
            "Meta",
            (),
            {
                "model": self.Meta.model,
                "fields": self.Meta.model.editable_fields,
                "extra_kwargs": getattr(self.Meta, "field_kwargs", {}),
            },
        )
        builder = type(
            "EditableFields",
            (serializers.ModelSerializer,),
            {
                "Meta": meta,
                "serializer_related_field": VisibleRecordField,
                "serializer_field_mapping": {
                    **serializers.ModelSerializer.serializer_field_mapping,
                    models.DateTimeField: UTCDateTimeField,
                },
            },
        )
        built = builder(context=self.context).get_fields()
        return {**built, **super().get_fields()}


class CodeRelatedField(serializers.SlugRelatedField):
    """A related record named by its code or slug, looked up among those the user may see (the
    visibility layer's ``visible_to``), with a message naming what was not found: ``Unknown member
    code XX.`` (``queryset`` is every record, for the schema.)"""

    def __init__(self, *, noun, **kwargs):
        kwargs.setdefault(
            "error_messages",
            {
                "does_not_exist": f"Unknown {noun} {{value}}.",
                "invalid": f"Give the {noun} as text.",
            },
        )
        super().__init__(**kwargs)

    def get_queryset(self):
        return super().get_queryset().visible_to(self.context["request"].user)

    def run_validation(self, data=serializers.empty):
        # DRF reads "" as null for related fields; a code is never empty, and null is said as null.
        if data == "":
            self.fail("invalid")
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        return super().to_internal_value(data.strip())


class RecordListField(serializers.ManyRelatedField):
    """A list of related records: a JSON list, nothing else (DRF would take any iterable, ``{}`` too)."""

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class VisibleRecordField(serializers.PrimaryKeyRelatedField):
    """A related record by id, among those the user may see (the visibility layer's ``visible_to``;
    others are reported as missing); ``queryset`` is every record, for the schema."""

    @classmethod
    def many_init(cls, *args, **kwargs):
        field = super().many_init(*args, **kwargs)
        field.__class__ = RecordListField
        return field

    def get_queryset(self):
        return super().get_queryset().visible_to(self.context["request"].user)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str) or not str(data).isdigit():
            self.fail("incorrect_type", data_type=type(data).__name__)
        if int(data) > 2**63 - 1:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


def coalition_field(**kwargs):
    kwargs.setdefault("help_text", "The coalition's slug.")
    return CodeRelatedField(
        noun="coalition slug",
        queryset=Coalition.objects.all(),
        slug_field="slug",
        **kwargs,
    )


def member_field(**kwargs):
    kwargs.setdefault("help_text", "The member's code (ISO 3166-1 alpha-2 for a country).")
    return CodeRelatedField(
        noun="member code",
        queryset=Member.objects.all(),
        slug_field="code",
        **kwargs,
    )


# --- Coalitions ------------------------------------------------------------------------------------


class CoalitionSerializer(APISerializer):
    """A coalition, by slug."""

    slug = serializers.SlugField(max_length=80)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    target_eur = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, allow_null=True)
    reporting_currency = serializers.CharField(read_only=True)
    public = serializers.BooleanField(
        read_only=True, help_text="Whether its public page (/public/<slug>/, no sign-in) is on."
    )
    version = serializers.IntegerField(read_only=True)
    created_at = UTCDateTimeField(read_only=True)
    updated_at = UTCDateTimeField(read_only=True)

    def to_representation(self, coalition):
        return {
            "slug": coalition.slug,
            "name": coalition.name,
            "description": coalition.description,
            "target_eur": decimal_text(coalition.target_eur),
            "reporting_currency": coalition.reporting_currency,
            "public": coalition.public,
            "version": coalition.version,
            "created_at": iso_datetime(coalition.created_at),
            "updated_at": iso_datetime(coalition.updated_at),
        }


class CoalitionUpdateSerializer(EditableFieldsMixin, APISerializer):
    """A coalition's name, description, target and public page (its slug is its address and stays),
    with the ``version`` you read: a stale one is refused with 409."""

    version = version_field()

    class Meta:
        model = Coalition


# --- Members ---------------------------------------------------------------------------------------


class MembershipSerializer(serializers.Serializer):
    coalition = serializers.CharField(help_text="The coalition's slug.")
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    since = serializers.DateField(allow_null=True)


class MemberSerializer(APISerializer):
    """A country or organisation, by code, with its seats in your coalitions."""

    code = serializers.CharField(max_length=12, help_text="ISO 3166-1 alpha-2 for a country; NATO, EU ... otherwise.")
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Member.Kind.choices, default=Member.Kind.COUNTRY)
    iati_identifier = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="Its IATI organisation identifier, such as XM-DAC-41114 (empty when it has none).",
    )
    coalitions = MembershipSerializer(many=True, read_only=True, help_text="Its seats in your coalitions.")
    coalition = coalition_field(write_only=True, help_text="The coalition to seat the new member in.")
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER, write_only=True)
    since = serializers.DateField(required=False, allow_null=True, write_only=True)

    class Meta:
        csv_expand = {}

    def to_representation(self, member):
        return {
            "code": member.code,
            "name": member.name,
            "kind": member.kind,
            "iati_identifier": member.iati_identifier,
            "coalitions": [
                {"coalition": m.coalition.slug, "role": m.role, "since": iso_date(m.since)}
                for m in member.visible_memberships
            ],
        }

    def csv_row(self, instance, data):
        row = super().csv_row(instance, data)
        row["coalitions"] = " ".join(f"{m['coalition']}:{m['role']}" for m in data["coalitions"])
        return row


class MemberUpdateSerializer(EditableFieldsMixin, APISerializer):
    """A member's code is referenced everywhere and stays; its name and kind may be corrected."""

    class Meta:
        model = Member
        field_kwargs = {"kind": {"required": True}}


def with_visible_memberships(user, queryset):
    """Members with ``visible_memberships``: their seats in the coalitions ``user`` may see."""
    memberships = Membership.objects.visible_to(user).select_related("coalition")
    return queryset.prefetch_related(
        Prefetch("memberships", queryset=memberships.order_by("coalition__slug"), to_attr="visible_memberships")
    )
