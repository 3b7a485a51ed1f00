"""Pledge imports: a preview with every row's errors, then all rows written in one transaction or none."""

import io
import time
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contributions import services
from contributions.models import Pledge, PledgeImport
from tests import factories

pytestmark = pytest.mark.django_db

HEADER = "member,title,amount,currency,status,announced_on,confirmed_on,kind,channel,external_ref"


def csv_file(*lines, name="pledges.csv", header=HEADER):
    return SimpleUploadedFile(name, ("\n".join([header, *lines]) + "\n").encode(), content_type="text/csv")


def xlsx_file(header, rows, name="pledges.xlsx"):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def confirm(pledge_import, user):
    """Confirm as the page does; the task is queued on commit and runs in-process in tests."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.pledge_import_confirm(pledge_import=pledge_import, acting_user=user)


def run(upload, coalition, user):
    """Preview then confirm (tasks run in-process in tests), as the pages do."""
    pledge_import = services.pledge_import_parse(upload, coalition, user)
    assert pledge_import.errors == [], pledge_import.errors
    confirm(pledge_import, user)
    pledge_import.refresh_from_db()
    return pledge_import


GOOD = (
    "EE,Servers for the MoD,1250000.00,EUR,announced,2024-02-02,,financial,bilateral,EE-1",
    "LU,Secure communications,1000000,USD,confirmed,2024-02-02,2024-05-31,in kind,trust fund,LU-1",
    'EE,Training,"2,500.50",EUR,draft,2024-03-28,,,,',
)


def test_good_file_previews_without_writing_then_imports_every_row(
    django_capture_on_commit_callbacks, secretariat, coalition, member_a, member_b, rates
):
    pledge_import = services.pledge_import_parse(csv_file(*GOOD), coalition, secretariat)
    assert pledge_import.errors == []
    assert (pledge_import.created_count, pledge_import.updated_count, pledge_import.total_rows) == (3, 0, 3)
    assert [row["action"] for row in pledge_import.rows] == ["create", "create", "create"]
    assert Pledge.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        services.pledge_import_confirm(pledge_import=pledge_import, acting_user=secretariat)
    pledge_import.refresh_from_db()
    assert pledge_import.status == PledgeImport.Status.DONE
    assert pledge_import.created_count == 3

    usd = Pledge.objects.get(external_ref="LU-1")
    assert usd.member == member_b and usd.status == "confirmed" and usd.kind == "in_kind"
    assert usd.channel == "trust_fund" and usd.confirmed_on == date(2024, 5, 31)
    assert usd.amount_eur == (Decimal("1000000") / Decimal("1.0883")).quantize(Decimal("0.01"))
    assert Pledge.objects.get(title="Training").amount == Decimal("2500.50")
    history = usd.history.get()
    assert history.history_type == "+" and history.history_user == secretariat


def test_bad_rows_write_nothing_and_every_error_names_its_row_and_column(secretariat, coalition, member_a, rates):
    factories.MemberFactory(code="FR", name="France")  # exists, but not in the coalition
    lines = (
        "EE,Good row,100,EUR,announced,2024-02-02,,,,OK-1",
        "XX,Unknown member,100,EUR,announced,2024-02-02,,,,",
        "EE,Bad amount,lots,EUR,announced,2024-02-02,,,,",
        "EE,,100,EUR,announced,2024-02-02,,,,",
        "EE,Bad date,100,EUR,announced,02/02/2024,,,,",
        "EE,Bad status,100,EUR,promised,2024-02-02,,,,",
        "FR,Not a member,100,EUR,announced,2024-02-02,,,,",
        "EE,Confirmed before announced,100,EUR,confirmed,2024-02-02,2024-01-01,,,",
        "EE,No rate,100,UAH,announced,2024-02-02,,,,",
        "EE,Duplicate reference,100,EUR,announced,2024-02-02,,,,OK-1",
        "EE,Negative,-5,EUR,announced,2024-02-02,,,,",
    )
    pledge_import = services.pledge_import_parse(csv_file(*lines), coalition, secretariat)
    found = {(e["row"], e["column"]) for e in pledge_import.errors}
    assert found == {
        (3, "member"),
        (4, "amount"),
        (5, "title"),
        (6, "announced_on"),
        (7, "status"),
        (8, "member"),
        (9, "confirmed_on"),
        (10, "currency"),
        (11, "external_ref"),
        (12, "amount"),
    }
    messages = {e["row"]: e["message"] for e in pledge_import.errors}
    assert "XX" in messages[3] and "UAH" in messages[10] and "row 2" in messages[11]
    assert Pledge.objects.count() == 0
    with pytest.raises(Exception, match="errors cannot be confirmed"):
        services.pledge_import_confirm(pledge_import=pledge_import, acting_user=secretariat)
    assert Pledge.objects.count() == 0


def test_unknown_member_code_is_reported(secretariat, coalition, member_a, rates):
    pledge_import = services.pledge_import_parse(
        csv_file("ZZ,Someone,100,EUR,announced,2024-02-02,,,,"), coalition, secretariat
    )
    assert pledge_import.errors == [{"row": 2, "column": "member", "message": "Unknown member code ZZ."}]


def test_unknown_and_missing_columns_are_reported_before_any_row(secretariat, coalition, member_a, rates):
    upload = csv_file("EE,Servers,100,2024-02-02,x", header="member,title,amount,announced_on,ammount")
    pledge_import = services.pledge_import_parse(upload, coalition, secretariat)
    assert {(e["row"], e["column"]) for e in pledge_import.errors} == {(1, "ammount"), (1, "currency")}
    assert "Unknown column ammount" in pledge_import.errors[0]["message"] or any(
        "Unknown column ammount" in e["message"] for e in pledge_import.errors
    )


def test_columns_in_any_order_and_semicolons(secretariat, coalition, member_a, rates):
    upload = csv_file(
        "2024-02-02;EUR;1 250 000,50;Servers;EE", header="announced_on;currency;amount;title;member", name="x.csv"
    )
    pledge_import = run(upload, coalition, secretariat)
    assert pledge_import.created_count == 1
    pledge = Pledge.objects.get()
    assert pledge.amount == Decimal("1250000.50") and pledge.status == "draft"


def test_xlsx_with_date_and_number_cells(secretariat, coalition, member_a, member_b, rates):
    upload = xlsx_file(
        ["External_Ref", "Member", "Title", "Amount", "Currency", "Status", "Announced_On"],
        [
            ["X-1", "EE", "Servers", 1250000.1, "EUR", "announced", datetime(2024, 2, 2)],
            ["X-2", "LU", "Radios", 2000000, "GBP", "confirmed", date(2024, 3, 28)],
        ],
    )
    pledge_import = run(upload, coalition, secretariat)
    assert pledge_import.created_count == 2
    servers = Pledge.objects.get(external_ref="X-1")
    assert servers.amount == Decimal("1250000.10") and servers.announced_on == date(2024, 2, 2)
    radios = Pledge.objects.get(external_ref="X-2")
    assert radios.amount_eur == (Decimal("2000000") / Decimal("0.85510")).quantize(Decimal("0.01"))


def test_reimport_updates_by_external_ref_instead_of_duplicating(secretariat, coalition, member_a, member_b, rates):
    run(csv_file(*GOOD), coalition, secretariat)
    first = Pledge.objects.get(external_ref="EE-1")
    changed = (
        "EE,Servers for the MoD,1500000.00,EUR,confirmed,2024-02-02,2024-05-31,financial,bilateral,EE-1",
        GOOD[1],
    )
    pledge_import = run(csv_file(*changed), coalition, secretariat)
    assert (pledge_import.created_count, pledge_import.updated_count, pledge_import.unchanged_count) == (0, 1, 1)
    assert Pledge.objects.filter(external_ref="EE-1").count() == 1
    first.refresh_from_db()
    assert first.amount == Decimal("1500000.00") and first.status == "confirmed"
    assert first.confirmed_on == date(2024, 5, 31)
    assert first.version == 3  # the update, then the confirmation
    assert first.history.count() == 3
    assert Pledge.objects.count() == 3


def test_reimport_cannot_move_a_pledge_backwards(secretariat, coalition, member_a, member_b, rates):
    run(csv_file(*GOOD), coalition, secretariat)
    backwards = GOOD[1].replace(",confirmed,", ",draft,")
    pledge_import = services.pledge_import_parse(csv_file(backwards), coalition, secretariat)
    assert [(e["row"], e["column"]) for e in pledge_import.errors] == [(2, "status")]


def test_editor_imports_only_their_own_member(editor_a, coalition, member_a, member_b, rates):
    pledge_import = services.pledge_import_parse(csv_file(*GOOD), coalition, editor_a)
    assert [(e["row"], e["column"]) for e in pledge_import.errors] == [(3, "member")]


def test_one_failing_update_at_apply_rolls_back_every_row(secretariat, coalition, member_a, member_b, rates):
    """The data changed between preview and confirmation: nothing is written, the row is reported."""
    run(csv_file(*GOOD), coalition, secretariat)
    lines = ("EE,New one,100,EUR,announced,2024-02-02,,,,NEW-1", GOOD[0].replace("1250000.00", "1300000.00"))
    pledge_import = services.pledge_import_parse(csv_file(*lines), coalition, secretariat)
    assert pledge_import.errors == []
    pledge = Pledge.objects.get(external_ref="EE-1")
    services.pledge_withdraw(acting_user=secretariat, pledge=pledge, version=pledge.version)
    confirm(pledge_import, secretariat)
    pledge_import.refresh_from_db()
    assert pledge_import.status == PledgeImport.Status.FAILED
    assert [e["row"] for e in pledge_import.errors] == [3]
    assert not Pledge.objects.filter(external_ref="NEW-1").exists()


def test_a_confirmed_import_cannot_run_twice(secretariat, coalition, member_a, rates):
    pledge_import = run(csv_file("EE,Once,100,EUR,announced,2024-02-02,,,,"), coalition, secretariat)
    services.pledge_import_apply(pledge_import_id=pledge_import.pk)
    with pytest.raises(Exception, match="already been confirmed"):
        services.pledge_import_confirm(pledge_import=pledge_import, acting_user=secretariat)
    assert Pledge.objects.count() == 1


@pytest.mark.slow
def test_five_thousand_rows_import_in_seconds_with_a_fixed_number_of_queries(
    secretariat, coalition, member_a, member_b, rates
):
    currencies = ("EUR", "USD", "GBP", "DKK", "JPY")
    lines = [
        f"{'EE' if i % 2 else 'LU'},Pledge {i},{1000 + i}.25,{currencies[i % 5]},"
        f"{'confirmed' if i % 3 == 0 else 'announced'},2024-0{2 + i % 2}-{'02' if i % 2 == 0 else '28'},"
        f"{'2024-05-31' if i % 3 == 0 else ''},financial,bilateral,REF-{i}"
        for i in range(5000)
    ]
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        pledge_import = services.pledge_import_parse(csv_file(*lines), coalition, secretariat)
        confirm(pledge_import, secretariat)
    elapsed = time.perf_counter() - started
    pledge_import.refresh_from_db()
    assert pledge_import.errors == []
    assert pledge_import.status == PledgeImport.Status.DONE
    assert Pledge.objects.count() == 5000
    assert Pledge.history.count() == 5000
    print(f"\n5,000-row import (preview + confirm): {elapsed:.2f} s, {len(queries)} queries")
    # No query per row: PostgreSQL takes 500 rows a statement (about 50 queries in all); SQLite's
    # limit on parameters splits the inserts further, still far below one per row.
    assert len(queries) < 500, [q["sql"][:100] for q in queries.captured_queries[:20]]
    assert elapsed < 30


# --- The pages -----------------------------------------------------------------------------------


def test_anonymous_import_page_redirects_to_login(client):
    response = client.get(reverse("pledges:import"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["steering", "partner", "outsider"])
def test_readers_cannot_import(client, personas, persona):
    client.force_login(personas[persona])
    assert client.get(reverse("pledges:import")).status_code == 403


def test_editor_uploads_previews_and_confirms_in_the_browser(client, editor_a, coalition, member_a, rates):
    client.force_login(editor_a)
    assert client.get(reverse("pledges:import")).status_code == 200
    upload = csv_file("EE,Servers,100,EUR,announced,2024-02-02,,,,W-1")
    response = client.post(reverse("pledges:import"), {"coalition": coalition.pk, "file": upload})
    assert response.status_code == 302
    preview_url = response["Location"]
    page = client.get(preview_url).content.decode()
    assert "Import 1 row" in page and Pledge.objects.count() == 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(preview_url)
    assert response.status_code == 302
    assert "1 pledges created" in client.get(preview_url).content.decode()
    assert Pledge.objects.get().external_ref == "W-1"


def test_preview_lists_errors_with_rows(client, secretariat, coalition, member_a, rates):
    client.force_login(secretariat)
    upload = csv_file("QQ,Servers,100,EUR,announced,2024-02-02,,,,")
    response = client.post(reverse("pledges:import"), {"coalition": coalition.pk, "file": upload}, follow=True)
    body = response.content.decode()
    assert "Unknown member code QQ." in body
    assert '<th scope="row" class="num">2</th>' in body
    assert "Import 1 row" not in body


def test_someone_elses_import_is_hidden(client, editor_a, editor_b, coalition, member_a, rates):
    pledge_import = services.pledge_import_parse(
        csv_file("EE,Servers,100,EUR,announced,2024-02-02,,,,"), coalition, editor_a
    )
    client.force_login(editor_b)
    url = reverse("pledges:import_preview", args=[pledge_import.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert Pledge.objects.count() == 0


def test_running_import_page_refreshes_itself_and_shows_progress(client, secretariat, coalition, member_a, rates):
    pledge_import = services.pledge_import_parse(
        csv_file("EE,Servers,100,EUR,announced,2024-02-02,,,,"), coalition, secretariat
    )
    PledgeImport.objects.filter(pk=pledge_import.pk).update(status=PledgeImport.Status.RUNNING)
    client.force_login(secretariat)
    body = client.get(reverse("pledges:import_preview", args=[pledge_import.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in body
    assert "<progress" in body


def test_with_a_broker_the_import_is_queued_and_its_page_follows_the_worker(
    client, monkeypatch, secretariat, coalition, member_a, rates
):
    """With a broker (not eager) the confirmation only queues the task; the page refreshes itself
    until the worker has written the rows."""
    from contributions import tasks
    from contributions.services.imports import progress_key

    queued = []
    monkeypatch.setattr(
        tasks.pledge_import_task, "apply_async", lambda kwargs, task_id, **options: queued.append(kwargs)
    )
    pledge_import = services.pledge_import_parse(
        csv_file("EE,Servers,100,EUR,announced,2024-02-02,,,,Q-1"), coalition, secretariat
    )
    url = reverse("pledges:import_preview", args=[pledge_import.pk])
    client.force_login(secretariat)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert client.post(url).status_code == 302
    assert queued == [{"pledge_import_id": pledge_import.pk}]  # sent after the commit, by id
    assert not Pledge.objects.exists()
    page = client.get(url).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page and "0 of 1 rows written" in page

    from django.core.cache import cache

    PledgeImport.objects.filter(pk=pledge_import.pk).update(status=PledgeImport.Status.RUNNING)
    cache.set(progress_key(pledge_import.pk), 1)
    assert "1 of 1 rows written" in client.get(url).content.decode()

    tasks.pledge_import_task(pledge_import.pk)  # what the worker runs
    page = client.get(url).content.decode()
    assert "http-equiv" not in page and "1 pledges created" in page
    assert Pledge.objects.get().external_ref == "Q-1"


def test_a_reference_taken_during_the_insert_fails_the_import_cleanly(
    monkeypatch, secretariat, coalition, member_a, rates
):
    from django.db import IntegrityError

    from contributions.services import imports

    pledge_import = services.pledge_import_parse(
        csv_file("EE,Servers,100,EUR,announced,2024-02-02,,,,RACE-1"), coalition, secretariat
    )

    def collide(*args, **kwargs):
        raise IntegrityError("duplicate key value violates unique constraint pledge_unique_external_ref")

    monkeypatch.setattr(imports, "bulk_create_with_history", collide)
    confirm(pledge_import, secretariat)
    pledge_import.refresh_from_db()
    assert pledge_import.status == PledgeImport.Status.FAILED
    assert pledge_import.errors[0]["column"] == "external_ref"
    assert not Pledge.objects.exists()


def test_an_import_whose_uploader_is_gone_never_runs_as_the_system(secretariat, coalition, member_a, rates):
    pledge_import = services.pledge_import_parse(
        csv_file("EE,Servers,100,EUR,announced,2024-02-02,,,,"), coalition, secretariat
    )
    PledgeImport.objects.filter(pk=pledge_import.pk).update(status=PledgeImport.Status.QUEUED, created_by=None)
    services.pledge_import_apply(pledge_import_id=pledge_import.pk)
    pledge_import.refresh_from_db()
    assert pledge_import.status == PledgeImport.Status.FAILED
    assert not Pledge.objects.exists()


def test_an_unexpected_failure_is_shown_as_failed_not_running(monkeypatch, secretariat, coalition, member_a, rates):
    from contributions.services import imports

    pledge_import = services.pledge_import_parse(
        csv_file("EE,Servers,100,EUR,announced,2024-02-02,,,,"), coalition, secretariat
    )
    PledgeImport.objects.filter(pk=pledge_import.pk).update(status=PledgeImport.Status.QUEUED)

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(imports, "bulk_create_with_history", boom)
    with pytest.raises(RuntimeError):
        services.pledge_import_apply(pledge_import_id=pledge_import.pk)
    pledge_import.refresh_from_db()
    assert pledge_import.status == PledgeImport.Status.FAILED
    assert "nothing was saved" in pledge_import.errors[0]["message"]


def test_a_database_error_during_the_import_starts_it_again_and_it_ends_done(
    monkeypatch, secretariat, coalition, member_a, member_b, rates, django_capture_on_commit_callbacks
):
    """The database restarts under a running import: nothing was written (one transaction), the task
    runs it again, and the second run writes every row: the import is resumed, not stranded."""
    from django.db import OperationalError

    from contributions import tasks
    from contributions.services import imports

    real = imports._apply_locked
    calls = []

    def restart_once(pledge_import_id, key):
        calls.append(pledge_import_id)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return real(pledge_import_id, key)

    monkeypatch.setattr(imports, "_apply_locked", restart_once)
    monkeypatch.setattr(tasks, "DATABASE_RETRIES", 3)
    pledge_import = services.pledge_import_parse(csv_file(*GOOD), coalition, secretariat)

    with django_capture_on_commit_callbacks(execute=True):
        services.pledge_import_confirm(pledge_import=pledge_import, acting_user=secretariat)

    pledge_import.refresh_from_db()
    assert len(calls) == 2
    assert (pledge_import.status, pledge_import.created_count) == (PledgeImport.Status.DONE, 3)
    assert Pledge.objects.count() == 3


def test_an_import_left_running_is_failed_with_the_reason_by_the_sweep(secretariat, coalition, member_a, rates):
    from datetime import timedelta

    from django.utils import timezone

    from contributions import tasks

    pledge_import = services.pledge_import_parse(csv_file(*GOOD), coalition, secretariat)
    recent = services.pledge_import_parse(csv_file(*GOOD), coalition, secretariat)
    PledgeImport.objects.filter(pk=pledge_import.pk).update(
        status=PledgeImport.Status.RUNNING, started_at=timezone.now() - timedelta(hours=1)
    )
    PledgeImport.objects.filter(pk=recent.pk).update(status=PledgeImport.Status.RUNNING, started_at=timezone.now())

    assert tasks.interrupted_imports() == 1

    pledge_import.refresh_from_db()
    assert pledge_import.status == PledgeImport.Status.FAILED and pledge_import.finished_at is not None
    assert (
        "interrupted" in pledge_import.errors[0]["message"]
        and "nothing was saved" in pledge_import.errors[0]["message"]
    )
    assert PledgeImport.objects.get(pk=recent.pk).status == PledgeImport.Status.RUNNING
    assert not Pledge.objects.exists()


def test_a_row_reports_every_problem_in_one_round(secretariat, coalition, member_a, rates):
    """-5000 and 2024-13-45 on one row: both, not the date now and the amount after a re-upload."""
    factories.MemberFactory(code="FR", name="France")  # exists, but not in the coalition
    lines = (
        "EE,Two problems,-5000,EUR,announced,2024-13-45,,,,",
        "FR,Three problems,100.005,EUR,promised,2024-02-02,,,,",
        "EE,Confirmed early with a bad amount,0,EUR,confirmed,2024-02-02,2024-01-01,,,",
    )
    pledge_import = services.pledge_import_parse(csv_file(*lines), coalition, secretariat)
    found = sorted((e["row"], e["column"]) for e in pledge_import.errors)
    assert found == [
        (2, "amount"),
        (2, "announced_on"),
        (3, "amount"),
        (3, "member"),
        (3, "status"),
        (4, "amount"),
        (4, "confirmed_on"),
    ]
    messages = {(e["row"], e["column"]): e["message"] for e in pledge_import.errors}
    assert messages[(2, "amount")] == "The amount must be greater than zero."
    assert messages[(3, "amount")] == "Amounts have at most two decimal places."
    assert "France" in messages[(3, "member")]
