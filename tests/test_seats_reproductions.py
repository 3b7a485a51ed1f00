"""The four findings that started the seats and visibility work, reproduced as a user would, from
outside, on the demo and a second coalition: each failed before roles were held per coalition and
publication became a fact."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from coalition.models import Coalition, Member
from coalition.services import api_key_create
from contributions.models import Pledge
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def command(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(settings):
    command("load_demo", "--allow-production")
    demining = Coalition.objects.create(name="Demining Coalition", slug="demining")
    return Coalition.objects.get(slug="it-coalition"), demining


def api_as(username):
    user = get_user_model().objects.get(username=username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_create(owner=user, name='probe')[1]}")
    return client


def web_as(client, username):
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_a_secretariat_of_one_coalition_on_anothers_steering_group_cannot_change_it(demo):
    it, demining = demo
    command("grant_role", "sec-mix", "secretariat", "--coalition", "it-coalition")
    command("grant_role", "sec-mix", "steering", "--coalition", "demining")
    factories.MembershipFactory(member=Member.objects.get(code="EE"), coalition=demining)
    draft = factories.make_pledge(
        coalition=demining, member=Member.objects.get(code="EE"), status="draft", title="Demining draft"
    )
    client = api_as("sec-mix")

    # A coalition carries a version (the public switch's check): sent as any client would, read first.
    def version(slug):
        return client.get(reverse("api:coalition-detail", args=[slug])).json()["version"]

    response = client.patch(
        reverse("api:coalition-detail", args=["demining"]),
        {"name": "Taken", "version": version("demining")},
        format="json",
    )

    assert response.status_code == 403
    assert Coalition.objects.get(slug="demining").name == "Demining Coalition"
    renamed = client.patch(
        reverse("api:coalition-detail", args=["it-coalition"]),
        {"name": "IT", "version": version("it-coalition")},
        format="json",
    )
    assert renamed.status_code == 200
    assert client.get(reverse("api:pledge-detail", args=[draft.pk])).status_code == 404
    listed = client.get(reverse("api:pledge-list"), {"coalition": "demining"}).json()["results"]
    assert draft.pk not in {row["id"] for row in listed}


def test_a_draft_withdrawn_before_publication_stays_private(demo):
    it, _demining = demo
    editor = api_as("editor-ee")
    created = editor.post(
        reverse("api:pledge-list"),
        {
            "coalition": "it-coalition",
            "member": "EE",
            "title": "Never published",
            "description": "Radios, not yet agreed",
            "amount": "777777.00",
            "currency": "EUR",
            "announced_on": "2024-05-31",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pledge = created.json()
    withdrawn = editor.post(
        reverse("api:pledge-withdraw", args=[pledge["id"]]), {"version": pledge["version"]}, format="json"
    )
    assert withdrawn.status_code == 200

    for username in ("partner", "editor-lu", "steering"):
        response = api_as(username).get(reverse("api:pledge-detail", args=[pledge["id"]]))
        assert response.status_code == 404, username
        for secret in (b"Never published", b"Radios, not yet agreed", b"777777"):
            assert secret not in response.content, username
    assert api_as("secretariat").get(reverse("api:pledge-detail", args=[pledge["id"]])).status_code == 200


def test_a_drafts_earlier_title_and_amount_stay_out_of_the_history_others_read(demo, client):
    it, _demining = demo
    editor = api_as("editor-ee")
    pledge = editor.post(
        reverse("api:pledge-list"),
        {
            "coalition": "it-coalition",
            "member": "EE",
            "title": "Working title 41",
            "amount": "412412.00",
            "currency": "EUR",
            "announced_on": "2024-05-31",
        },
        format="json",
    ).json()
    changed = editor.patch(
        reverse("api:pledge-detail", args=[pledge["id"]]),
        {"title": "Cyber defence licences", "amount": "500000.00", "version": pledge["version"]},
        format="json",
    ).json()
    announced = editor.post(
        reverse("api:pledge-announce", args=[pledge["id"]]), {"version": changed["version"]}, format="json"
    )
    assert announced.status_code == 200

    url = reverse("pledges:detail", args=[pledge["id"]])
    for username in ("steering", "editor-lu"):
        html = web_as(client, username).get(url).content.decode()
        assert "Cyber defence licences" in html, username
        assert "Working title 41" not in html, username
        assert "412,412" not in html and "412412" not in html, username
    own = web_as(client, "editor-ee").get(url).content.decode()
    assert "Working title 41" in own, "the draft's own editors keep its whole history"


def test_a_secretariat_cannot_rename_a_member_seated_elsewhere_nor_learn_that_a_code_is_taken(demo):
    it, demining = demo
    hidden = Member.objects.create(code="UNMAS", name="UN Mine Action Service", kind="organisation")
    factories.MembershipFactory(member=hidden, coalition=demining)
    factories.MembershipFactory(member=Member.objects.get(code="LT"), coalition=demining)
    client = api_as("secretariat")

    renamed = client.patch(reverse("api:member-detail", args=["LT"]), {"name": "Lithuania (renamed)"}, format="json")
    taken = client.post(
        reverse("api:member-list"),
        {"code": "UNMAS", "name": "Some other body", "kind": "organisation", "coalition": "it-coalition"},
        format="json",
    )

    assert renamed.status_code == 403
    assert Member.objects.get(code="LT").name == "Lithuania"
    assert taken.status_code == 400
    assert taken.json() == {"code": ["This code is used by another member: choose another code."]}
    assert b"already exists" not in taken.content and b"Mine Action" not in taken.content
    assert not hidden.memberships.filter(coalition=it).exists()
    assert Pledge.objects.filter(amount=Decimal("777777.00")).count() == 0
