"""A real Celery worker on Redis and PostgreSQL sends a batch of webhooks to a real receiver and is
SIGKILLed in the middle; a fresh worker finishes: every event arrives (some possibly twice, the same
``webhook-id``, which receivers deduplicate on), every signature verifies, every ledger row is sent."""

import ipaddress
import time

import pytest
from standardwebhooks import Webhook

from feed import services
from feed.models import WebhookDelivery
from tests import factories
from tests.feed.receiver import Receiver
from tests.reports.conftest import WorkerProcess, purge_broker, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]
BATCH = 60


class SlowReceiver(Receiver):
    """Takes a little time per request, so the kill lands in the middle of the batch."""

    def __init__(self):
        super().__init__()
        handler = self.server.RequestHandlerClass
        original = handler.do_POST

        def do_post(request_handler):
            time.sleep(0.05)
            original(request_handler)

        handler.do_POST = do_post


def test_a_worker_killed_mid_batch_loses_no_webhook(
    settings, smtp_server, worker_log_dir, partner, coalition, member_a, rates, real_broker, tmp_path
):
    settings.WEBHOOKS_ALLOWED_NETWORKS = [ipaddress.ip_network("127.0.0.0/8")]
    env = {
        "WEBHOOKS_ALLOWED_NETWORKS": "127.0.0.0/8",
        "WEBHOOKS_RETRY_BACKOFF": "1",
        "WEBHOOKS_RETRY_BACKOFF_MAX": "2",
        "OUTBOX_RESEND_AFTER": "5",
    }
    purge_broker()
    with SlowReceiver() as receiver:
        endpoint = services.endpoint_create(acting_user=partner, url=receiver.url, events=["pledge.created"])
        first = WorkerProcess(smtp_server.port, worker_log_dir, **env).start()
        second = None
        try:
            started = time.monotonic()
            for n in range(BATCH):
                factories.make_pledge(coalition=coalition, member=member_a, title=f"Pledge {n}")
            wait_for(lambda: len(receiver.unique()) >= BATCH // 3, 60, interval=0.02, message="a third of the batch")
            first.kill()
            at_kill = len(receiver.unique())
            second = WorkerProcess(smtp_server.port, worker_log_dir, **env).start()
            wait_for(
                lambda: WebhookDelivery.objects.filter(status="sent").count() == BATCH,
                120,
                interval=0.5,
                message=lambda: (
                    f"all {BATCH} sent; ledger {list(WebhookDelivery.objects.values_list('status', 'attempts'))}"
                ),
            )
            elapsed = time.monotonic() - started
        finally:
            for process in (first, second):
                if process is not None:
                    process.stop()
    unique = receiver.unique()
    print(
        f"\nkilled after {at_kill} of {BATCH} received; {len(receiver.requests)} requests, {len(unique)} distinct "
        f"webhook-ids; {elapsed:.1f} s"
    )
    assert at_kill < BATCH, "the kill came after the batch: nothing was interrupted"
    assert len(unique) == BATCH
    assert {r.headers["webhook-id"] for r in unique} == {d.message_id for d in WebhookDelivery.objects.all()}
    for request in receiver.requests:
        Webhook(endpoint.secret).verify(request.body, request.headers)
