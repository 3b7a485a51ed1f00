"""Webhooks against a real receiver on 127.0.0.1: registration, Standard Webhooks signatures checked
with the ``standardwebhooks`` library, retries, the ledger, disabling, rotation and redirects."""

import ipaddress
import json
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse
from standardwebhooks import Webhook

from coalition import services as coalition_services
from contributions import services as contribution_services
from feed import outbound, services
from feed.models import WebhookDelivery, WebhookEndpoint
from meetings import services as meeting_services
from tests import factories
from tests.api_mixins import APITestBase
from tests.feed.receiver import Receiver, free_port

# The feed hands out only changes of transactions that have ended (coalition.changes): on PostgreSQL a
# test inside one open transaction would see none, so each write here commits.
pytestmark = pytest.mark.django_db(transaction=True)
LOOPBACK = [ipaddress.ip_network("127.0.0.0/8")]


@pytest.fixture
def loopback_allowed(settings):
    settings.WEBHOOKS_ALLOWED_NETWORKS = LOOPBACK
    settings.WEBHOOKS_MAX_RETRIES = 3
    settings.WEBHOOKS_RETRY_BACKOFF = 0
    settings.WEBHOOKS_TIMEOUT = 5
    return settings


def verified(received, secret):
    return Webhook(secret).verify(received.body, received.headers)


class TestRegistration(APITestBase):
    url = reverse("api:webhook-list")

    @pytest.mark.parametrize(
        "address",
        [
            "http://127.0.0.1:8000/hook",
            "http://10.1.2.3/hook",
            "http://169.254.169.254/latest",
            "http://localhost/hook",
            "http://192.168.0.10/",
        ],
    )
    def test_a_private_loopback_or_link_local_address_is_refused_with_a_field_message(self, api, address):
        response = api("partner").post(self.url, {"url": address}, format="json")
        assert response.status_code == 400
        assert "private, loopback or link-local" in response.json()["url"][0]
        assert not WebhookEndpoint.objects.exists()

    @pytest.mark.parametrize("address", ["http://[::1]/x", "http://[::ffff:10.0.0.1]/", "http://[fe80::1]/"])
    def test_an_ipv6_literal_is_refused_with_a_field_message(self, api, address):
        response = api("partner").post(self.url, {"url": address}, format="json")
        assert response.status_code == 400
        assert "host name or an IPv4 address" in response.json()["url"][0]
        assert not WebhookEndpoint.objects.exists()

    def test_an_allowed_network_is_accepted_and_the_secret_shown_once(self, api, loopback_allowed, partner):
        client = api("partner")
        response = client.post(
            self.url, {"url": "http://127.0.0.1:16799/h", "events": ["pledge.created"]}, format="json"
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["secret"].startswith("whsec_") and body["owner"] == "partner"
        assert "secret" not in client.get(f"{self.url}{body['id']}/").json()
        assert [e["id"] for e in client.get(self.url).json()["results"]] == [body["id"]]

    def test_unknown_events_are_refused(self, api, loopback_allowed):
        response = api("partner").post(
            self.url, {"url": "http://127.0.0.1/h", "events": ["pledge.eaten"]}, format="json"
        )
        assert response.status_code == 400 and "events" in response.json()

    def test_secretariat_registers_for_a_partner_of_its_coalition_and_others_see_nothing(
        self, api, loopback_allowed, partner
    ):
        response = api("secretariat").post(self.url, {"url": "http://127.0.0.1/h", "owner": "partner"}, format="json")
        assert response.status_code == 201
        endpoint = WebhookEndpoint.objects.get()
        assert endpoint.owner == partner
        assert api("partner").get(f"{self.url}{endpoint.pk}/").status_code == 200
        assert api("editor_a").get(f"{self.url}{endpoint.pk}/").status_code == 404
        assert (
            api("editor_a").post(self.url, {"url": "http://127.0.0.1/h", "owner": "partner"}, format="json").status_code
            == 400
        )
        assert api("outsider").get(self.url).status_code == 403


def register(user, url, events=()):
    return services.endpoint_create(acting_user=user, url=url, events=events)


def test_every_delivery_verifies_and_carries_the_feed_event(
    loopback_allowed, partner, coalition, member_a, rates, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        endpoint = register(partner, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            pledge = factories.make_pledge(coalition=coalition, member=member_a, status="draft")
        with django_capture_on_commit_callbacks(execute=True):
            contribution_services.pledge_announce(acting_user=None, pledge=pledge)
    assert len(receiver.requests) == 1  # the draft is not the partner's to see
    event = verified(receiver.requests[0], endpoint.secret)
    assert event["type"] == "pledge.updated" and event["action"] == "announced"
    assert event["data"]["id"] == pledge.pk
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("sent", 1, 200)
    assert receiver.requests[0].headers["webhook-id"] == delivery.message_id


def test_a_receiver_failing_twice_then_answering_gets_the_event_once(
    loopback_allowed, partner, coalition, member_a, rates, django_capture_on_commit_callbacks
):
    with Receiver(answers=[500, 503]) as receiver:
        endpoint = register(partner, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            factories.make_pledge(coalition=coalition, member=member_a)
    assert len(receiver.requests) == 3
    assert len(receiver.unique()) == 1
    for request in receiver.requests:
        verified(request, endpoint.secret)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.is_active


def test_a_receiver_down_past_the_retries_leaves_a_failed_row_and_disables_the_endpoint(
    loopback_allowed, partner, coalition, member_a, rates, django_capture_on_commit_callbacks
):
    loopback_allowed.WEBHOOKS_DISABLE_AFTER = 1
    endpoint = register(partner, f"http://127.0.0.1:{free_port()}/nobody-listens")
    with django_capture_on_commit_callbacks(execute=True):
        factories.make_pledge(coalition=coalition, member=member_a)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 4, None)
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error.lower()
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert [m.to for m in mail.outbox] == [[partner.email]]
    assert endpoint.url in mail.outbox[0].body


def test_redirects_are_not_followed(
    loopback_allowed, partner, coalition, member_a, rates, django_capture_on_commit_callbacks
):
    loopback_allowed.WEBHOOKS_MAX_RETRIES = 0
    with Receiver(answers=[302]) as receiver:
        register(partner, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            factories.make_pledge(coalition=coalition, member=member_a)
    assert [r.path for r in receiver.requests] == ["/hooks"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("failed", 302)
    assert "Redirects are not followed" in delivery.last_error


def test_a_rotated_secret_signs_beside_the_new_one_during_the_overlap(
    loopback_allowed, partner, coalition, member_a, rates, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        endpoint = register(partner, receiver.url)
        old = endpoint.secret
        endpoint = services.endpoint_rotate_secret(acting_user=partner, endpoint=endpoint)
        with django_capture_on_commit_callbacks(execute=True):
            factories.make_pledge(coalition=coalition, member=member_a)
    request = receiver.requests[0]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verified(request, old) == verified(request, endpoint.secret)
    endpoint.previous_secret_until = datetime(2000, 1, 1, tzinfo=UTC)
    assert len(services.signature(endpoint, "msg_1", datetime.now(UTC), "{}").split(" ")) == 1


def test_an_endpoint_gets_only_the_events_it_asked_for(
    loopback_allowed, partner, coalition, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        register(partner, receiver.url, events=["meeting.held"])
        with django_capture_on_commit_callbacks(execute=True):
            meeting = meeting_services.meeting_create(
                acting_user=None, coalition=coalition, title="Plenary", starts_at=datetime(2024, 2, 2, 9, tzinfo=UTC)
            )
        with django_capture_on_commit_callbacks(execute=True):
            meeting_services.meeting_mark_held(acting_user=None, meeting=meeting)
    assert [json.loads(r.body)["action"] for r in receiver.requests] == ["held"]


class TestLedger(APITestBase):
    def test_owner_and_secretariat_read_the_ledger_and_redeliver_with_the_same_id(
        self, api, loopback_allowed, partner, coalition, member_a, rates, django_capture_on_commit_callbacks
    ):
        with Receiver() as receiver:
            endpoint = register(partner, receiver.url)
            with django_capture_on_commit_callbacks(execute=True):
                factories.make_pledge(coalition=coalition, member=member_a)
            url = reverse("api:webhook-deliveries", args=[endpoint.pk])
            rows = api("partner").get(url).json()["results"]
            assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 1)]
            assert api("secretariat").get(url).json()["results"] == rows
            assert api("editor_b").get(url).status_code == 404
            redeliver = reverse("api:webhook-redeliver", args=[endpoint.pk, rows[0]["id"]])
            with django_capture_on_commit_callbacks(execute=True):
                assert api("partner").post(redeliver).status_code == 202
        assert len(receiver.requests) == 2 and len(receiver.unique()) == 1
        assert WebhookDelivery.objects.get().attempts == 2

    def test_a_removed_seat_stops_the_partners_events(
        self, loopback_allowed, partner, coalition, member_a, rates, django_capture_on_commit_callbacks
    ):
        with Receiver() as receiver:
            register(partner, receiver.url, events=["pledge.created", "pledge.updated"])
            with django_capture_on_commit_callbacks(execute=True):
                coalition_services.seat_remove(acting_user=None, user=partner, coalition=coalition)
            with django_capture_on_commit_callbacks(execute=True):
                factories.make_pledge(coalition=coalition, member=member_a)
        assert receiver.requests == []


def test_outbound_refuses_what_check_refuses(settings):
    settings.WEBHOOKS_ALLOWED_NETWORKS = []
    assert outbound.post("http://127.0.0.1:1/", b"{}", {})[0] is None
    with pytest.raises(outbound.Refused):
        outbound.check("ftp://example.org/")
