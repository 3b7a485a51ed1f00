"""The report tasks read their retry settings when they retry, not when reports.tasks is imported:
``override_settings`` (and a worker's environment) decide how often and how long they wait."""

import pytest
from django.test import override_settings

from reports import tasks
from reports.models import Delivery
from tests.reports.test_ledger import prepare, run_deliver

pytestmark = [pytest.mark.django_db]


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_override_settings_decides_the_number_of_attempts(coalition, smtp, max_retries):
    smtp.reset(plan=["451-data"] * 10)
    delivery = prepare(coalition)

    with override_settings(REPORTS_MAX_RETRIES=max_retries):
        assert tasks.deliver.max_retries == max_retries
        run_deliver(delivery)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, max_retries + 1)
    assert smtp.transactions == max_retries + 1


def test_each_retry_waits_the_backoff_the_settings_say_now(coalition, smtp, monkeypatch):
    waits = []
    monkeypatch.setattr(tasks, "get_exponential_backoff_interval", lambda **kwargs: waits.append(kwargs) or 0)
    smtp.reset(plan=["451-data"] * 10)
    delivery = prepare(coalition)

    with override_settings(REPORTS_MAX_RETRIES=2, REPORTS_RETRY_BACKOFF=7, REPORTS_RETRY_BACKOFF_MAX=90):
        run_deliver(delivery)

    assert waits == [{"factor": 7, "retries": retries, "maximum": 90, "full_jitter": True} for retries in (0, 1, 2)]


@override_settings(REPORTS_RETRY_BACKOFF=3, REPORTS_RETRY_BACKOFF_MAX=20)
def test_the_wait_is_jittered_up_to_backoff_times_two_to_the_retry_and_capped():
    for retries, ceiling in [(0, 3), (1, 6), (2, 12), (3, 20), (10, 20)]:
        waits = {tasks.retry_countdown(retries) for _ in range(200)}
        assert min(waits) >= 0
        assert max(waits) <= ceiling
        assert len(waits) > 1, "full jitter: the wait is random"
