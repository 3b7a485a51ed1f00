"""The helpers behind the portal's pages: readable history diffs, CSV/XLSX downloads, service errors
on forms."""

import csv
import io
from datetime import UTC, datetime
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
    assert len(queries) == 1  # the diffs are computed from one query
    changed, created = entries
    assert (created.type, created.user) == ("+", secretariat)
    assert ("title", "—", "Kick-off") in created.changes
    assert changed.type == "~" and changed.user is None
    assert set(changed.changes) == {("title", "Kick-off", "First steering group"), ("location", "—", "Tallinn")}
    assert "version" not in {c.field for c in changed.changes}


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


def test_xlsx_export_neutralises_formulas():
    response = xlsx_response("x", ["Title"], [["=1+1"], ["-2"]])
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows == [("Title",), ("'=1+1",), ("'-2",)]


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
