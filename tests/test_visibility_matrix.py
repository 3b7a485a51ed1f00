"""Every surface against one oracle: who may see and change what, for people seated differently in two
coalitions (or not at all), against own and other members' records, published, draft and
withdrawn-before-publication.

The oracle below restates DESIGN.md's roles table on its own (it shares no code with
coalition.permissions): a record is read by anyone seated in its coalition once published, and before
that only by the coalition's secretariat and the editors of its member; it is changed by the
secretariat and by its member's editors. Each user walks the HTML pages, the API (JSON and CSV), the
exports, the member profile, the dashboard, the summary, the meeting page and the calendar; every
cell is compared with the oracle, and every body that should not show a record is searched for its
title, description and amount (and the draft-era title its history holds). The report emails are
checked apart: who receives them, and that no unpublished figure, draft minute or delegate's name is
in them.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from coalition.services import api_key_create
from contributions import services as pledge_services
from contributions.models import Pledge
from meetings import services as meeting_services
from reports import tasks as report_tasks
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SECRETARIAT, EDITOR, STEERING, PARTNER = "secretariat", "member-editor", "steering", "partner"
INTERNAL = {SECRETARIAT, EDITOR, STEERING}

#: username -> {coalition key: (role, member code or None)}; "superuser" is the administrator.
USERS = {
    "sec_a": {"a": (SECRETARIAT, None)},
    "sec_a_steer_b": {"a": (SECRETARIAT, None), "b": (STEERING, None)},
    "ed_ee_a": {"a": (EDITOR, "EE")},
    "ed_ee_a_partner_b": {"a": (EDITOR, "EE"), "b": (PARTNER, None)},
    "ed_lu_a_ed_fr_b": {"a": (EDITOR, "LU"), "b": (EDITOR, "FR")},
    "steer_a": {"a": (STEERING, None)},
    "steer_a_sec_b": {"a": (STEERING, None), "b": (SECRETARIAT, None)},
    "partner_a": {"a": (PARTNER, None)},
    "partner_a_ed_ee_b": {"a": (PARTNER, None), "b": (EDITOR, "EE")},
    "sec_b": {"b": (SECRETARIAT, None)},
    "steer_b": {"b": (STEERING, None)},
    "outsider": {},
    "superuser": None,
}

#: The pledges: key -> (coalition, member, kind). kind: published, draft, withdrawn draft (never
#: published), withdrawn after publication.
PLEDGES = {
    "a_ee_pub": ("a", "EE", "published"),
    "a_ee_draft": ("a", "EE", "draft"),
    "a_ee_wdraft": ("a", "EE", "withdrawn-draft"),
    "a_lu_pub": ("a", "LU", "published"),
    "a_lu_draft": ("a", "LU", "draft"),
    "a_lu_wdraft": ("a", "LU", "withdrawn-draft"),
    "a_lu_pubwd": ("a", "LU", "withdrawn-published"),
    "b_ee_pub": ("b", "EE", "published"),
    "b_ee_draft": ("b", "EE", "draft"),
    "b_fr_pub": ("b", "FR", "published"),
    "b_fr_draft": ("b", "FR", "draft"),
    "b_fr_wdraft": ("b", "FR", "withdrawn-draft"),
}


# --- The oracle ----------------------------------------------------------------------------------


def seat_of(username, coalition):
    seats = USERS[username]
    return None if seats is None else seats.get(coalition)


def reads(username, key):
    coalition, member, kind = PLEDGES[key]
    if USERS[username] is None:
        return True
    seat = seat_of(username, coalition)
    if seat is None:
        return False
    if kind in ("published", "withdrawn-published"):
        return True
    return reads_drafts(username, coalition, member)


def reads_drafts(username, coalition, member):
    """Whether the user reads ``member``'s unpublished records (and pre-publication history) there."""
    if USERS[username] is None:
        return True
    seat = seat_of(username, coalition)
    return seat is not None and (seat[0] == SECRETARIAT or seat == (EDITOR, member))


def changes(username, key):
    coalition, member, _kind = PLEDGES[key]
    return reads_drafts(username, coalition, member)


def writes_pledges_anywhere(username):
    """The API refuses a pledge write up front (403, whatever the record) to a role that never writes one."""
    seats = USERS[username]
    return seats is None or any(role in (SECRETARIAT, EDITOR) for role, _member in seats.values())


def internal(username, coalition):
    if USERS[username] is None:
        return True
    seat = seat_of(username, coalition)
    return seat is not None and seat[0] in INTERNAL


def seated(username, coalition):
    return USERS[username] is None or seat_of(username, coalition) is not None


# --- The world -----------------------------------------------------------------------------------


def token(key, part):
    return f"{part}-{key.upper()}-Q7"


@dataclass
class World:
    coalitions: dict
    members: dict
    pledges: dict
    meetings: dict
    users: dict = field(default_factory=dict)
    keys: dict = field(default_factory=dict)

    def secrets(self, key):
        """What must not appear where the pledge is hidden: its title, description and amount."""
        return [token(key, "TITLE"), token(key, "DESC"), str(self.pledges[key].amount)]


def build_world():
    factories.standard_rates()
    coalitions = {
        "a": factories.CoalitionFactory(slug="alpha", name="Alpha Coalition"),
        "b": factories.CoalitionFactory(slug="bravo", name="Bravo Coalition"),
    }
    members = {
        "EE": factories.MemberFactory(code="EE", name="Estonia"),
        "LU": factories.MemberFactory(code="LU", name="Luxembourg"),
        "FR": factories.MemberFactory(code="FR", name="France"),
    }
    for coalition, codes in (("a", ("EE", "LU")), ("b", ("EE", "FR"))):
        for code in codes:
            factories.MembershipFactory(member=members[code], coalition=coalitions[coalition])
    pledges = {}
    for index, (key, (coalition, code, kind)) in enumerate(PLEDGES.items()):
        pledge = pledge_services.pledge_create(
            acting_user=None,
            coalition=coalitions[coalition],
            member=members[code],
            title=token(key, "DRAFTERA") if kind == "published" else token(key, "TITLE"),
            description=token(key, "DESC"),
            amount=Decimal(f"{9100 + index}.00"),
            currency="EUR",
            announced_on=date(2024, 2, 2),
            status="draft",
        )
        if kind == "published":
            # Edited while a draft (its history holds the draft-era title), then announced.
            pledge = pledge_services.pledge_update(acting_user=None, pledge=pledge, title=token(key, "TITLE"))
            pledge = pledge_services.pledge_announce(acting_user=None, pledge=pledge)
        elif kind == "withdrawn-draft":
            pledge = pledge_services.pledge_withdraw(acting_user=None, pledge=pledge)
        elif kind == "withdrawn-published":
            pledge = pledge_services.pledge_announce(acting_user=None, pledge=pledge)
            pledge = pledge_services.pledge_withdraw(acting_user=None, pledge=pledge)
        pledges[key] = pledge
    meetings = {}
    for coalition in ("a", "b"):
        meeting = meeting_services.meeting_create(
            acting_user=None,
            coalition=coalitions[coalition],
            title=f"Steering group {coalition}",
            starts_at=timezone.now() - timedelta(days=1),
            minutes=f"MINUTES-{coalition.upper()}-Q7",
        )
        meeting_services.attendance_set(
            acting_user=None,
            meeting=meeting,
            member=members["EE"],
            status="present",
            delegates=f"DELEGATE-{coalition.upper()}-Q7",
        )
        decision = meeting_services.decision_record(acting_user=None, meeting=meeting, text=f"Decided {coalition}")
        linked = [p for key, p in pledges.items() if key.startswith(coalition) and "draft" in PLEDGES[key][2]]
        pledge_services.decision_link(acting_user=None, decision=decision, pledges=linked)
        meetings[coalition] = meeting_services.meeting_mark_held(acting_user=None, meeting=meeting)
    world = World(coalitions=coalitions, members=members, pledges=pledges, meetings=meetings)
    for username, seats in USERS.items():
        if seats is None:
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.create_superuser(username, f"{username}@example.org", factories.PASSWORD)
        else:
            user = factories.persona(username, PARTNER, coalitions=[coalitions["a"]])
            factories_seats(user, seats, world)
        world.users[username] = user
        world.keys[username] = api_key_create(owner=user, name="matrix")[1]
    return world


def factories_seats(user, seats, world):
    """Replace the persona's seats by exactly ``seats``."""
    from coalition.services import seat_remove

    seat_remove(acting_user=None, user=user, coalition=world.coalitions["a"])
    for coalition, (role, code) in seats.items():
        factories.seat(user, world.coalitions[coalition], role, member=world.members[code] if code else None)


# --- The walk ------------------------------------------------------------------------------------


class Walk:
    """One user's clients and the cells they checked: every difference from the oracle is a failure."""

    def __init__(self, world, username):
        self.world = world
        self.username = username
        self.web = Client()
        self.web.force_login(world.users[username])
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Token {world.keys[username]}")
        self.cells = 0
        self.failures = []

    def expect(self, condition, message):
        self.cells += 1
        if not condition:
            self.failures.append(message)

    def body(self, response):
        if response.streaming:
            return b"".join(response.streaming_content).decode()
        return response.content.decode()

    def shows(self, body, key):
        return token(key, "TITLE") in body

    def leaks(self, body, key):
        return [secret for secret in self.world.secrets(key) if secret in body]


def walk_pledges(walk):
    world, user = walk.world, walk.username
    for key, pledge in world.pledges.items():
        visible = reads(user, key)
        page = walk.web.get(reverse("pledges:detail", args=[pledge.pk]))
        body = page.content.decode()
        walk.expect(page.status_code == (200 if visible else 404), f"{key} page: {page.status_code}")
        if visible:
            walk.expect(walk.shows(body, key), f"{key} page does not show the pledge")
        else:
            walk.expect(not walk.leaks(body, key), f"{key} page leaks {walk.leaks(body, key)}")
        history_shows_draft_era = token(key, "DRAFTERA") in body
        walk.expect(
            not history_shows_draft_era or reads_drafts(user, *PLEDGES[key][:2]),
            f"{key} history shows the draft-era title",
        )
        answer = walk.api.get(reverse("api:pledge-detail", args=[pledge.pk]))
        expected = 403 if user == "outsider" else (200 if visible else 404)  # the API has nothing for them
        walk.expect(answer.status_code == expected, f"{key} API: {answer.status_code}, expected {expected}")
        if not visible:
            walk.expect(not walk.leaks(answer.content.decode(), key), f"{key} API leaks")


def walk_writes(walk):
    world, user = walk.world, walk.username
    for key, pledge in world.pledges.items():
        visible, editable = reads(user, key), changes(user, key)
        withdrawn = PLEDGES[key][2].startswith("withdrawn")
        edit = walk.web.get(reverse("pledges:edit", args=[pledge.pk]))
        if not visible:
            expected = 404
        elif not editable:
            expected = 403
        else:
            expected = 302 if withdrawn else 200  # a withdrawn pledge's edit page sends back with a message
        walk.expect(edit.status_code == expected, f"{key} edit page: {edit.status_code}, expected {expected}")
        current = Pledge.objects.get(pk=pledge.pk)
        patch = walk.api.patch(
            reverse("api:pledge-detail", args=[pledge.pk]),
            {"description": f"patched by {user}", "version": current.version},
            format="json",
        )
        if not writes_pledges_anywhere(user):
            expected = 403
        elif not visible:
            expected = 404
        elif not editable:
            expected = 403
        else:
            expected = 400 if withdrawn else 200
        walk.expect(patch.status_code == expected, f"{key} PATCH: {patch.status_code}, expected {expected}")
        if patch.status_code != 200:
            walk.expect(
                Pledge.objects.get(pk=pledge.pk).description == current.description, f"{key} changed by a refusal"
            )


def walk_lists(walk):
    world, user = walk.world, walk.username
    readable = {key for key in world.pledges if reads(user, key)}
    bodies = {
        "list": walk.web.get(reverse("pledges:list")),
        "csv export": walk.web.get(reverse("pledges:export", args=["csv"])),
        "member EE": walk.web.get(reverse("member_detail", args=["EE"])),
        "API CSV": walk.api.get(reverse("api:pledge-list"), {"format": "csv", "page_size": 200}),
    }
    uses_portal = user != "outsider"
    for name, response in bodies.items():
        expected = 200 if uses_portal else (404 if name == "member EE" else 403)
        walk.expect(response.status_code == expected, f"{name}: {response.status_code}, expected {expected}")
        body = walk.body(response)
        for key in world.pledges:
            ee_only = name == "member EE" and PLEDGES[key][1] != "EE"
            if key in readable and response.status_code == 200 and not ee_only:
                walk.expect(walk.shows(body, key), f"{name} does not show {key}")
            else:
                walk.expect(not walk.leaks(body, key), f"{name} leaks {key}: {walk.leaks(body, key)}")
    answer = walk.api.get(reverse("api:pledge-list"), {"page_size": 200})
    if uses_portal:
        ids = {row["id"] for row in answer.json()["results"]}
        walk.expect(ids == {world.pledges[key].pk for key in readable}, f"API list ids {sorted(ids)}")
    else:
        walk.expect(answer.status_code == 403, f"API list: {answer.status_code}")


def walk_coalition_pages(walk):
    world, user = walk.world, walk.username
    unpublished = [key for key, (_c, _m, kind) in PLEDGES.items() if kind in ("draft", "withdrawn-draft")]
    for coalition_key, coalition in world.coalitions.items():
        seat = seated(user, coalition_key)
        pages = {
            "dashboard": walk.web.get(reverse("reports:dashboard", args=[coalition.slug])),
            "summary": walk.api.get(reverse("api:summary"), {"coalition": coalition.slug}),
            "calendar": walk.web.get(reverse("coalition_calendar", args=[coalition.slug])),
            "meeting": walk.web.get(reverse("meetings:detail", args=[world.meetings[coalition_key].pk])),
            "meetings API": walk.api.get(reverse("api:meeting-detail", args=[world.meetings[coalition_key].pk])),
        }
        for name, response in pages.items():
            if seat:
                expected = 200
            else:
                # Someone with no seat anywhere is told so (403); a seat elsewhere learns nothing (404).
                expected = 403 if user == "outsider" and name in ("summary", "meetings API", "calendar") else 404
            walk.expect(response.status_code == expected, f"{coalition_key} {name}: {response.status_code}, {expected}")
            body = response.content.decode()
            for key in unpublished:
                # Dashboards and summaries are the published figures, whoever reads them.
                if name in ("dashboard", "summary") or not reads(user, key):
                    walk.expect(not walk.leaks(body, key)[:2], f"{coalition_key} {name} leaks {key}")
            for key in world.pledges:
                walk.expect(token(key, "DRAFTERA") not in body, f"{coalition_key} {name} shows a draft-era title")
            if name in ("meeting", "meetings API") and response.status_code == 200:
                sees = internal(user, coalition_key)
                for secret in (f"MINUTES-{coalition_key.upper()}-Q7", f"DELEGATE-{coalition_key.upper()}-Q7"):
                    walk.expect((secret in body) == sees, f"{coalition_key} {name}: {secret} shown={secret in body}")


@pytest.fixture
def world():
    return build_world()


@pytest.mark.parametrize("username", list(USERS))
def test_every_surface_agrees_with_the_roles_table(world, username):
    walk = Walk(world, username)
    walk_pledges(walk)
    walk_lists(walk)
    walk_coalition_pages(walk)
    walk_writes(walk)
    print(f"{username}: {walk.cells} cells")  # noqa: T201 - the matrix's size, with -s
    assert walk.failures == [], "\n".join(walk.failures)
    assert walk.cells > 150


def test_report_emails_go_to_internal_readers_and_carry_nothing_unpublished(
    world, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for coalition in world.coalitions.values():
            report_tasks.send_digest.delay(coalition.pk)
        for meeting in world.meetings.values():
            report_tasks.send_meeting_summary.delay(meeting.pk)
    assert mail.outbox, "the digests and meeting summaries were sent"
    by_address = {user.email: username for username, user in world.users.items()}
    unpublished = [key for key, (_c, _m, kind) in PLEDGES.items() if kind in ("draft", "withdrawn-draft")]
    for message in mail.outbox:
        body = message.body + "".join(str(content) for content, _type in getattr(message, "alternatives", []))
        coalition_key = "a" if "Alpha" in message.subject else "b"
        for recipient in message.to:
            username = by_address[recipient]
            assert internal(username, coalition_key), f"{username} got {message.subject}"
        for key in unpublished:
            assert token(key, "TITLE") not in body and token(key, "DESC") not in body, (message.subject, key)
        for key in world.pledges:
            assert token(key, "DRAFTERA") not in body, (message.subject, key)
        assert "DELEGATE-" not in body, message.subject
    got = {by_address[address] for message in mail.outbox for address in message.to}
    assert got >= {"sec_a", "steer_a", "sec_b", "steer_b"}, got
    assert not got & {"partner_a", "outsider"}, got
