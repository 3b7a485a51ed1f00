"""Pledge exports: typed XLSX cells, a total row, a server-side cursor that streams on PostgreSQL, and
exports too big for a request written by a task and offered to their requester only."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from contributions.exports import HEADER, PATHS
from contributions.models import PledgeExport
from tests import factories

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def _xlsx(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_xlsx_cells_are_typed_with_a_frozen_header_and_widths(client, steering, pledge_a, pledge_b):
    pledge_a.title = "=HYPERLINK(1)"
    pledge_a.save(update_fields=["title"])
    sheet = _xlsx(login(client, steering).get(reverse("pledges:export", args=["xlsx"]))).active
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["E"].width == 40  # the title
    header = [cell.value for cell in sheet[1]]
    assert header == [column.header for column in HEADER]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2) if isinstance(row[0].value, int)}
    amount_eur = rows[pledge_b.pk][PATHS.index("amount_eur")]
    assert amount_eur.value == 5000000 and amount_eur.data_type == "n" and amount_eur.number_format == "#,##0.00"
    announced = rows[pledge_b.pk][PATHS.index("announced_on")]
    assert announced.is_date and announced.value.date() == date(2024, 2, 2)
    title = rows[pledge_a.pk][PATHS.index("title")]
    assert title.value == "=HYPERLINK(1)" and title.data_type == "s"  # text, no apostrophe, never run


def test_csv_keeps_its_formula_guard_and_ends_with_the_total(client, steering, pledge_a, pledge_b):
    pledge_a.title = "=HYPERLINK(1)"
    pledge_a.save(update_fields=["title"])
    response = login(client, steering).get(reverse("pledges:export", args=["csv"]))
    *rows, total = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    assert {row["title"] for row in rows} == {"'=HYPERLINK(1)", pledge_b.title}
    assert total["title"] == "Total of 2 pledges"
    assert Decimal(total["amount_eur"]) == pledge_a.amount_eur + pledge_b.amount_eur


def test_the_list_shows_the_total_of_the_filtered_pledges(client, steering, pledge_a, pledge_b):
    response = login(client, steering).get(reverse("pledges:list"), {"member": "LU"})
    assert response.context["totals"] == {"count": 1, "amount_eur": pledge_b.amount_eur}
    body = response.content.decode()
    assert "Total of the 1 filtered pledge (EUR)" in body and "5,000,000.00" in body


def test_a_large_export_is_written_by_a_task_and_offered_to_its_requester_only(
    client, steering, secretariat, pledge_a, pledge_b, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.EXPORTS_MAX_SYNC_ROWS = 1
    settings.MEDIA_ROOT = str(tmp_path)
    with django_capture_on_commit_callbacks(execute=True):  # the task is queued once the request commits
        response = login(client, steering).get(
            reverse("pledges:export", args=["xlsx"]), {"status": ["confirmed", "announced"]}
        )
    assert response.status_code == 302 and response["Location"] == reverse("pledges:exports")
    export = PledgeExport.objects.get()
    assert export.status == PledgeExport.Status.DONE and export.row_count == 2 and export.created_by == steering

    page = client.get(reverse("pledges:exports"))
    assert list(page.context["exports"]) == [export]
    download = client.get(reverse("pledges:export_download", args=[export.pk]))
    rows = list(_xlsx(download).active.iter_rows(values_only=True))
    assert {row[0] for row in rows[1:-1]} == {pledge_a.pk, pledge_b.pk} and rows[-1][4] == "Total of 2 pledges"

    other = login(Client(), secretariat)
    assert list(other.get(reverse("pledges:exports")).context["exports"]) == []
    assert other.get(reverse("pledges:export_download", args=[export.pk])).status_code == 404


def test_an_export_in_another_format_is_refused_with_404(client, steering):
    assert login(client, steering).get(reverse("pledges:export", args=["pdf"])).status_code == 404


@pytest.mark.postgres
def test_csv_streams_from_a_cursor_postgresql_does_not_materialise(client, steering, coalition, member_a, rates):
    for i in range(3):
        factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal(100 + i), status="announced")
    response = login(client, steering).get(reverse("pledges:export", args=["csv"]))
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks), next(chunks)  # the byte-order mark, the header, the first pledge
    with connection.cursor() as cursor:
        cursor.execute("SELECT is_holdable FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        cursors = cursor.fetchall()
    assert cursors == [(False,)]  # declared in a transaction: not WITH HOLD, so rows stream as read
    rest = b"".join(chunks).decode()
    assert "Total of 3 pledges" in rest
