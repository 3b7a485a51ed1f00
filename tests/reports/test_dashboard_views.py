"""The dashboard pages: sign-in, who may read which coalition, the figures and their CSV twins."""

import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login_from_home(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders_without_sign_in(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'for="id_username"' in body
    assert '<html lang="en">' in body


def test_set_language_works_before_sign_in(client):
    response = client.post(reverse("set_language"), {"language": "uk", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert client.get(reverse("login")).content.decode().count('<html lang="uk">') == 1


def test_health_is_not_behind_login(client):
    response = client.get("/health/")
    assert response.status_code in (200, 503)
    assert response["Content-Type"].startswith("application/json")


def test_outsider_home_explains_no_coalition(client, outsider):
    client.force_login(outsider)
    response = client.get("/")
    assert response.status_code == 200
    assert "No coalition yet" in response.content.decode()


def test_steering_home_redirects_to_dashboard(client, steering, coalition):
    client.force_login(steering)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"/coalitions/{coalition.slug}/"


def test_logout_is_a_post_form(client, steering):
    client.force_login(steering)
    client.get("/")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_persona_password_signs_in(client, steering):
    response = client.post(reverse("login"), {"username": "steering", "password": factories.PASSWORD})
    assert response.status_code == 302


# --- The dashboard ---------------------------------------------------------------------------------


def dashboard_url(coalition):
    return reverse("reports:dashboard", args=[coalition.slug])


@pytest.mark.parametrize("persona", ["secretariat", "editor_a", "steering", "partner"])
def test_coalition_roles_read_the_dashboard(client, personas, persona, coalition, pledge_a, pledge_b):
    client.force_login(personas[persona])
    response = client.get(dashboard_url(coalition))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="img"' in body
    assert "<caption>" in body


def test_anonymous_dashboard_redirects_to_login(client, coalition):
    response = client.get(dashboard_url(coalition))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/coalitions/")


def test_outsider_cannot_read_a_dashboard(client, outsider, coalition):
    client.force_login(outsider)
    assert client.get(dashboard_url(coalition)).status_code == 404


def test_other_coalition_dashboard_is_hidden(client, steering, other_coalition):
    client.force_login(steering)
    assert client.get(dashboard_url(other_coalition)).status_code == 404
    assert client.get(f"/coalitions/{other_coalition.slug}/export/members.csv").status_code == 404
