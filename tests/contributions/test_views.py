"""The pledge pages: who may list, read, record, change, move along and export pledges."""


import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_pledge_list_redirects_to_login(client):
    response = client.get(reverse("pledges:list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/pledges/")


@pytest.mark.parametrize("persona", ["secretariat", "editor_a", "editor_b", "steering", "partner"])
def test_coalition_roles_list_pledges(client, personas, persona, pledge_a, pledge_b):
    client.force_login(personas[persona])
    response = client.get(reverse("pledges:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert pledge_a.title in body and pledge_b.title in body


def test_outsider_cannot_list_pledges(client, outsider, pledge_a):
    client.force_login(outsider)
    assert client.get(reverse("pledges:list")).status_code == 403


@pytest.mark.parametrize("persona", ["secretariat", "editor_a", "editor_b", "steering"])
def test_pledge_detail_for_coalition_roles(client, personas, persona, pledge_a):
    client.force_login(personas[persona])
    response = client.get(reverse("pledges:detail", args=[pledge_a.pk]))
    assert response.status_code == 200
    assert "History" in response.content.decode()
