"""Reports are queued only once the change commits: a rolled-back confirmation or meeting sends
nothing; users starting in a coalition get their role's reports by default."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from contributions import services as contribution_services
from meetings import services as meeting_services
from reports import tasks
from reports.models import Delivery, Report, Subscription
from tests import factories


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_confirmation_sends_nothing_and_a_committed_one_sends_the_notice(
    coalition, member_a, secretariat, rates
):
    pledge = factories.make_pledge(coalition=coalition, member=member_a, amount=Decimal("300000.00"))

    with pytest.raises(Boom), transaction.atomic():
        contribution_services.pledge_confirm(acting_user=secretariat, pledge=pledge)
        raise Boom

    pledge.refresh_from_db()
    assert pledge.status == "announced"
    assert mail.outbox == []
    assert not Delivery.objects.exists()

    contribution_services.pledge_confirm(acting_user=secretariat, pledge=pledge)

    assert [m.to for m in mail.outbox] == [[secretariat.email]]
    assert Delivery.objects.get().period == f"pledge-{pledge.pk}-confirmed"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_meeting_marked_held_sends_no_summary(coalition, secretariat, steering):
    meeting = meeting_services.meeting_create(
        acting_user=secretariat, coalition=coalition, title="Plenary", starts_at=timezone.now() - timedelta(hours=1)
    )

    with pytest.raises(Boom), transaction.atomic():
        meeting_services.meeting_mark_held(acting_user=secretariat, meeting=meeting)
        raise Boom

    assert mail.outbox == []
    meeting_services.meeting_mark_held(acting_user=secretariat, meeting=meeting)
    assert sorted(m.to[0] for m in mail.outbox) == [secretariat.email, steering.email]


@pytest.mark.django_db
def test_the_receivers_ask_in_the_transaction_and_hand_over_after_commit(
    coalition, member_a, secretariat, rates, django_capture_on_commit_callbacks
):
    pledge = factories.make_pledge(coalition=coalition, member=member_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        contribution_services.pledge_confirm(acting_user=secretariat, pledge=pledge)
    assert len(callbacks) == 1 and mail.outbox == []


@pytest.mark.django_db
def test_a_broker_outage_delays_the_notice_but_never_drops_it(
    coalition, member_a, secretariat, rates, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """The notice is an outbox row of the confirmation's own transaction: the broker refusing it after
    the commit leaves the row waiting, and beat's sweep hands it over once the broker is back."""
    from coalition import tasks as coalition_tasks
    from coalition.models import OutboxMessage

    pledge = factories.make_pledge(coalition=coalition, member=member_a)

    def unreachable(*args, **kwargs):
        raise ConnectionError("broker down")

    with monkeypatch.context() as broker_down:
        broker_down.setattr(tasks.send_confirmation_notice, "apply_async", unreachable)
        with django_capture_on_commit_callbacks(execute=True):
            contribution_services.pledge_confirm(acting_user=secretariat, pledge=pledge)

    message = OutboxMessage.objects.get(task="reports.tasks.send_confirmation_notice")
    assert (message.kwargs, message.dispatched_at, message.done_at) == ({"pledge_id": pledge.pk}, None, None)
    assert "broker down" in message.last_error and "not handed to the broker yet" in caplog.text
    assert mail.outbox == [] and not Delivery.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert coalition_tasks.outbox_sweep.delay().get() == 1

    message.refresh_from_db()
    assert message.done_at is not None and message.dispatches == 1
    assert [m.to for m in mail.outbox] == [[secretariat.email]]
    assert coalition_tasks.outbox_sweep.delay().get() == 0


@pytest.mark.django_db
def test_roles_get_their_default_reports_when_they_join_a_coalition(coalition, other_coalition, personas):
    subscriptions = set(Subscription.objects.values_list("user__username", "coalition__slug", "report"))
    assert subscriptions == {
        ("secretariat", "test-coalition", Report.DIGEST),
        ("secretariat", "test-coalition", Report.MEETING),
        ("secretariat", "test-coalition", Report.NOTICE),
        ("steering", "test-coalition", Report.DIGEST),
        ("steering", "test-coalition", Report.MEETING),
    }
    factories.persona("steering", "steering", coalitions=[other_coalition])
    assert Subscription.objects.filter(user__username="steering", coalition=other_coalition).count() == 2
