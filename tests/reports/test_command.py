"""manage.py send_report: a report now, for the subscribers or one address, never twice per period."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from reports.models import Delivery

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """send_report as from a shell: outside a transaction, so its on_commit queueing runs at once."""

    def run(*args):
        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_report", *args, stdout=out)
        return out.getvalue()

    return run


def test_digest_to_the_subscribers_then_nothing_more(report_world, subscriber, run):
    assert "2 email(s)" in run("digest", "--coalition", "test-coalition")
    assert sorted(m.to[0] for m in mail.outbox) == ["secretariat@example.org", "steering@example.org"]

    assert "Nothing to send" in run("digest", "--coalition", "test-coalition")
    assert len(mail.outbox) == 2


def test_digest_to_one_address(report_world, run):
    output = run("digest", "--coalition", "test-coalition", "--to", "Minister@Example.ORG")
    assert "for Minister@Example.ORG: 1 email(s)" in output
    assert [m.to for m in mail.outbox] == [["minister@example.org"]]
    assert Delivery.objects.get().user is None


def test_meeting_summary_and_notice(report_world, run):
    run("meeting", "--coalition", "test-coalition", "--meeting", str(report_world["held"].pk), "--to", "a@example.org")
    run("notice", "--coalition", "test-coalition", "--pledge", str(report_world["confirmed"].pk))
    assert [m.subject for m in mail.outbox] == [
        "Test Coalition: summary of First steering group",
        "Test Coalition: Luxembourg confirmed 5,000,000.00 EUR",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["digest", "--coalition", "nope"], "No coalition with slug 'nope'"),
        (["meeting", "--coalition", "test-coalition"], "needs --meeting"),
        (["notice", "--coalition", "test-coalition", "--pledge", "999999"], "No pledge 999999"),
        (["digest", "--coalition", "test-coalition", "--to", "not-an-address"], "not an email address"),
    ],
)
def test_bad_requests_say_what_is_wrong(report_world, args, message, run):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_planned_meeting_has_no_summary_yet(report_world, run):
    with pytest.raises(CommandError, match="is planned"):
        run("meeting", "--coalition", "test-coalition", "--meeting", str(report_world["upcoming"].pk))


def test_an_announced_pledge_has_no_notice(report_world, run):
    with pytest.raises(CommandError, match="is announced"):
        run("notice", "--coalition", "test-coalition", "--pledge", str(report_world["announced"].pk))
