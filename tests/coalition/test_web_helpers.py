"""The helpers behind the portal's pages: readable history diffs, CSV/XLSX downloads, service errors
on forms."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from coalition.errors import ConflictError
from coalition.exports import csv_response, xlsx_response
from coalition.history import history_entries
from coalition.webforms import add_service_error
from meetings import services
from meetings.models import Meeting


@pytest.mark.django_db
def test_history_entries_show_who_changed_what_before_and_after(coalition, secretariat):
    meeting = services.meeting_create(
        acting_user=secretariat, coalition=coalition, title="Kick-off", starts_at=datetime(2024, 2, 2, 8, tzinfo=UTC)
    )
    services.meeting_update(acting_user=None, meeting=meeting, title="First steering group", location="Tallinn")
    rows = Meeting.objects.get(pk=meeting.pk).history.all()
    with CaptureQueriesContext(connection) as queries:
        entries = history_entries(rows, Meeting)
    assert len(queries) == 2  # the rows, then the coalitions they name
    changed, created = entries
    assert (created.type, created.user) == ("+", secretariat)
    assert ("title", "—", "Kick-off") in created.changes
    assert ("coalition", "—", "Test Coalition") in created.changes  # by name, not "#5"
    assert changed.type == "~" and changed.user is None
    assert set(changed.changes) == {("title", "Kick-off", "First steering group"), ("location", "—", "Tallinn")}
    assert "version" not in {c.field for c in changed.changes}


@pytest.mark.django_db
def test_history_names_related_records_the_page_knows_and_never_looks_up_the_others(
    coalition, member_a, secretariat, rates
):
    """Coalitions, members and users are named from one query each (none if the page passes them);
    a pledge or meeting is named only when the page passes it as known: another record's history
    must not reveal a draft pledge's title to a reader who may not see it."""
    from contributions import services as contribution_services
    from contributions.models import Pledge

    pledge = contribution_services.pledge_create(
        acting_user=secretariat,
        coalition=coalition,
        member=member_a,
        title="Draft radios",
        amount=Decimal("100"),
        currency="EUR",
        announced_on=date(2024, 2, 2),
        status="draft",
    )
    meeting = services.meeting_create(
        acting_user=secretariat, coalition=coalition, title="Kick-off", starts_at=datetime(2024, 2, 2, 8, tzinfo=UTC)
    )
    contribution_services.pledge_update(
        acting_user=secretariat, pledge=pledge, version=pledge.version, confirmed_at_meeting=meeting
    )
    rows = Pledge.history.filter(id=pledge.pk)

    with CaptureQueriesContext(connection) as queries:
        unknown = history_entries(rows, Pledge, label=lambda row: "Pledge")
    assert len(queries) == 3  # the rows, the coalition, the member (the author came with the rows)
    changed = {c.field: c for c in unknown[0].changes}
    assert changed["confirmed at meeting"].new == f"#{meeting.pk}"
    created = {c.field: c.new for c in unknown[1].changes}
    assert (created["coalition"], created["member"]) == ("Test Coalition", "Estonia (EE)")

    with CaptureQueriesContext(connection) as queries:
        known = history_entries(rows, Pledge, label=lambda row: "Pledge", known=[coalition, member_a, meeting])
    assert len(queries) == 1
    assert {c.field: c for c in known[0].changes}["confirmed at meeting"].new == str(meeting)


@pytest.mark.django_db
def test_history_values_are_localised(coalition):
    meeting = services.meeting_create(
        acting_user=None, coalition=coalition, title="M", starts_at=datetime(2024, 2, 2, 8, tzinfo=UTC)
    )
    services.meeting_cancel(acting_user=None, meeting=meeting)
    with translation.override("uk"):
        entries = history_entries(Meeting.objects.get(pk=meeting.pk).history.all(), Meeting)
    assert entries[0].changes == [("статус", "заплановано", "скасовано")]


def test_csv_export_neutralises_formulas_and_keeps_decimals():
    response = csv_response("x", ["Title", "Amount"], [["=HYPERLINK(1)", Decimal("10.50")], ["+1", None]])
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [["Title", "Amount"], ["'=HYPERLINK(1)", "10.50"], ["'+1", ""]]
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'


def test_xlsx_export_writes_formula_like_text_as_text_without_an_apostrophe():
    response = xlsx_response("x", ["Title"], [["=1+1"], ["-2"]])
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert list(sheet.iter_rows(values_only=True)) == [("Title",), ("=1+1",), ("-2",)]
    assert sheet["A2"].data_type == "s"  # a string cell, never a formula Excel would run


class _Form(forms.Form):
    amount = forms.DecimalField()


def test_service_errors_land_on_their_fields_and_conflicts_on_the_form():
    form = _Form({"amount": "5"})
    assert form.is_valid()
    add_service_error(form, ValidationError({"amount": "Too small.", "currency": "Unknown."}))
    assert form.errors["amount"] == ["Too small."]
    assert form.non_field_errors() == ["Unknown."]
    form = _Form({"amount": "5"})
    form.is_valid()
    add_service_error(form, ConflictError(model_name="pledge", current_version=3))
    assert "now version 3" in form.non_field_errors()[0]
