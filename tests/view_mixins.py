"""Generic page tests, the NetBox ``utilities/testing/views.py`` ``ViewTestCases`` way: a test class
names its object type (a key of tests/expectations.ACTIONS, the table the API tests read too), its URL
names and fixtures, and inherits the list, detail, create, edit, delete and transition checks for every
persona: anonymous visitors are sent to sign in, a person without a seat is refused, the table's roles
may, the others get 403 and change nothing, another coalition's secretariat gets 404.

A class provides the ``record`` fixture (a record of member A in the test coalition) and, for the
writes it inherits, ``create_data``, ``edit_data`` and ``transition_data`` (form posts), and says how
to recognise what it wrote (``created``, ``changed``, ``transitioned``).
"""

import pytest
from django.urls import reverse

from tests import expectations


def pytest_generate_tests(metafunc):
    cls = metafunc.cls
    if cls is None or getattr(cls, "object_type", None) is None:
        return
    for fixture, action in (
        ("reader", "read"),
        ("creator", "create"),
        ("editor", "change"),
        ("deleter", "delete"),
        ("mover", "transition"),
    ):
        if fixture in metafunc.fixturenames:
            metafunc.parametrize(fixture, sorted(expectations.allowed(cls.object_type, action)))
        refused = f"refused_{fixture}"
        if refused in metafunc.fixturenames:
            metafunc.parametrize(refused, list(expectations.refused(cls.object_type, action)))


def as_persona(client, personas, name):
    client.force_login(personas[name])
    return client


class ViewTestBase:
    object_type = None

    @pytest.fixture
    def other_secretariat(self, other_coalition):
        from tests import factories

        return factories.persona("other_secretariat", "secretariat", coalitions=[other_coalition])

    def url(self, name, record=None):
        return reverse(name, args=[record.pk] if record is not None else [])

    def marker(self, record):
        """Text that shows the record on a page."""
        return str(record.title)


class ListViewTests(ViewTestBase):
    list_url_name = None

    def test_list_sends_anonymous_visitors_to_sign_in(self, client, record):
        response = client.get(self.url(self.list_url_name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_list_tells_a_person_without_a_seat_so(self, client, outsider, record):
        client.force_login(outsider)
        response = client.get(self.url(self.list_url_name))
        assert response.status_code == 403
        assert b"do not have a seat in any coalition" in response.content

    def test_list_shows_the_record_to_its_readers(self, client, personas, record, reader):
        response = as_persona(client, personas, reader).get(self.url(self.list_url_name))
        assert response.status_code == 200
        assert self.marker(record) in response.content.decode()

    def test_list_leaves_out_another_coalitions_record(self, client, other_secretariat, record):
        client.force_login(other_secretariat)
        response = client.get(self.url(self.list_url_name))
        assert response.status_code == 200
        assert self.marker(record) not in response.content.decode()


class DetailViewTests(ViewTestBase):
    detail_url_name = None

    def test_detail_sends_anonymous_visitors_to_sign_in(self, client, record):
        response = client.get(self.url(self.detail_url_name, record))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_detail_is_shown_to_its_readers(self, client, personas, record, reader):
        response = as_persona(client, personas, reader).get(self.url(self.detail_url_name, record))
        assert response.status_code == 200
        assert self.marker(record) in response.content.decode()

    def test_detail_is_not_found_for_another_coalition(self, client, other_secretariat, record):
        client.force_login(other_secretariat)
        response = client.get(self.url(self.detail_url_name, record))
        assert response.status_code == 404
        assert self.marker(record) not in response.content.decode()


class CreateViewTests(ViewTestBase):
    """``create_data``: a valid post of a record of member A; ``created()``: the queryset that finds it."""

    create_url_name = None

    def create_url(self, record):
        return self.url(self.create_url_name)

    def created(self, data):
        raise NotImplementedError

    def test_create_by_the_tables_roles_writes_the_record(self, client, personas, record, create_data, creator):
        client = as_persona(client, personas, creator)
        response = client.post(self.create_url(record), create_data)
        assert response.status_code == 302, response.content.decode()[:2000]
        written = self.created(create_data)
        assert written.count() == 1
        row = written.get().history.order_by("-history_id").first()
        assert (row.history_type, row.history_user) == ("+", personas[creator])

    def test_create_by_other_roles_writes_nothing_for_member_a(
        self, client, personas, record, create_data, refused_creator
    ):
        client = as_persona(client, personas, refused_creator)
        response = client.post(self.create_url(record), create_data)
        assert response.status_code in (302, 403), response.status_code
        assert not self.created(create_data).exists()

    def test_create_is_refused_to_another_coalitions_secretariat(self, client, other_secretariat, record, create_data):
        client.force_login(other_secretariat)
        response = client.post(self.create_url(record), create_data)
        assert response.status_code in (200, 403, 404)
        assert not self.created(create_data).exists()


class EditViewTests(ViewTestBase):
    """``edit_data``: a valid post changing the record; ``changed(record)``: whether it took effect."""

    edit_url_name = None

    def changed(self, record):
        raise NotImplementedError

    def test_edit_by_the_tables_roles(self, client, personas, record, edit_data, editor):
        client = as_persona(client, personas, editor)
        assert client.get(self.url(self.edit_url_name, record)).status_code == 200
        response = client.post(self.url(self.edit_url_name, record), edit_data)
        assert response.status_code == 302, response.content.decode()[:2000]
        record.refresh_from_db()
        assert self.changed(record)
        row = record.history.order_by("-history_id").first()
        assert (row.history_type, row.history_user) == ("~", personas[editor])

    def test_edit_is_refused_to_other_roles(self, client, personas, record, edit_data, refused_editor):
        client = as_persona(client, personas, refused_editor)
        assert client.get(self.url(self.edit_url_name, record)).status_code == 403
        assert client.post(self.url(self.edit_url_name, record), edit_data).status_code == 403
        record.refresh_from_db()
        assert not self.changed(record)

    def test_edit_is_not_found_for_another_coalition(self, client, other_secretariat, record, edit_data):
        client.force_login(other_secretariat)
        assert client.post(self.url(self.edit_url_name, record), edit_data).status_code == 404
        record.refresh_from_db()
        assert not self.changed(record)


def asks_first(client, url, data):
    """A destructive POST without confirm=yes answers with the confirmation page, which posts the
    same fields again to the same address with confirm=yes."""
    response = client.post(url, data)
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert f'action="{url}"' in html and 'name="confirm" value="yes"' in html
    for name, value in data.items():
        assert f'name="{name}" value="{value}"' in html, name
    assert "button--danger-solid" in html
    return response


class DeleteViewTests(ViewTestBase):
    delete_url_name = None

    def delete_data(self, record):
        return {"version": record.version}

    def test_delete_by_the_tables_roles(self, client, personas, record, deleter):
        client = as_persona(client, personas, deleter)
        data = self.delete_data(record)
        response = asks_first(client, self.url(self.delete_url_name, record), data)
        assert type(record).objects.filter(pk=record.pk).exists(), "nothing is deleted before it is confirmed"
        response = client.post(self.url(self.delete_url_name, record), {**data, "confirm": "yes"})
        assert response.status_code == 302
        assert not type(record).objects.filter(pk=record.pk).exists()
        row = type(record).history.filter(id=record.pk).order_by("-history_id").first()
        assert (row.history_type, row.history_user) == ("-", personas[deleter])

    def test_delete_is_refused_to_other_roles(self, client, personas, record, refused_deleter):
        client = as_persona(client, personas, refused_deleter)
        assert client.post(self.url(self.delete_url_name, record), self.delete_data(record)).status_code == 403
        assert type(record).objects.filter(pk=record.pk).exists()


class TransitionViewTests(ViewTestBase):
    """``transition_data``: a post moving the record on; ``transitioned(record)``: whether it moved."""

    transition_url_name = None
    #: Whether the transition cannot be taken back, and so asks to be confirmed first.
    transition_confirms = False

    def transitioned(self, record):
        raise NotImplementedError

    def test_transition_by_the_tables_roles(self, client, personas, record, transition_data, mover):
        client = as_persona(client, personas, mover)
        url = self.url(self.transition_url_name, record)
        if self.transition_confirms:
            asks_first(client, url, transition_data)
            record.refresh_from_db()
            assert not self.transitioned(record), "nothing changes before it is confirmed"
            transition_data = {**transition_data, "confirm": "yes"}
        response = client.post(url, transition_data)
        assert response.status_code == 302
        record.refresh_from_db()
        assert self.transitioned(record)

    def test_transition_is_refused_to_other_roles(self, client, personas, record, transition_data, refused_mover):
        client = as_persona(client, personas, refused_mover)
        assert client.post(self.url(self.transition_url_name, record), transition_data).status_code == 403
        record.refresh_from_db()
        assert not self.transitioned(record)
