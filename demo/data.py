"""The IT Coalition as the public reports of Ukraine's Ministry of Defence tell it.

Facts (dates, who attended, who confirmed, the published totals) come from those reports. The
reports publish no per-country amounts, so every pledge's amount, the split of the totals, the
disbursements, the priority purchases' costs and their procurement states are illustrative, and
each record's description says so. The illustrative split is chosen so the published totals hold
to the cent: EUR 30.5 million confirmed on 2 February 2024 ("more than EUR 30 million"), EUR 5.5
million announced in April, and the additional EUR 22 million of 31 May 2024 bringing the total
to exactly EUR 58,000,000.00.

Natural keys make the loader idempotent: the coalition by slug, members by code, meetings by
(title, starts_at), agenda items by order, decisions and action items by text, priorities by
title, pledges by external reference, disbursements by reference.
"""

from datetime import UTC, date, datetime

SLUG = "it-coalition"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the published password of the demo accounts

SRC_KICKOFF = "Ministry of Defence of Ukraine, report of 19 September 2023 (kick-off at the 15th UDCG meeting)"
SRC_SG1 = "Ministry of Defence of Ukraine, report of 2 February 2024 (first steering group meeting)"
SRC_MARCH = "Ministry of Defence of Ukraine, report of 6 March 2024"
SRC_SG2 = "Ministry of Defence of Ukraine, report of 8 April 2024 (second steering group meeting, Luxembourg)"
SRC_TALLINN = "Ministry of Defence of Ukraine, report of 31 May 2024 (steering group meeting, Tallinn)"

COALITION = {
    "slug": SLUG,
    "name": "IT Coalition",
    "target_eur": "100000000.00",
    "description": (
        "Capability coalition building a secure and resilient IT infrastructure for Ukraine's Ministry "
        "of Defence and Defence Forces, led by Estonia and Luxembourg. Its creation was announced on "
        "15 June 2023 at the Ukraine Defense Contact Group (Ramstein format); it was launched on "
        "19 September 2023 at the 15th UDCG meeting, and a six-year cooperation agreement was finalised "
        "in February 2024. By the Tallinn meeting of 31 May 2024 it had raised EUR 58 million.\n\n"
        "Demo data from the public reports of Ukraine's Ministry of Defence. The target of "
        "EUR 100,000,000 is illustrative (no target was published), and so is every per-country "
        "amount: the reports give only totals."
    ),
}

#: Exchange rates the demo's pledges need: the ECB reference rates (units per EUR) of their
#: announcement dates, as published in eurofxref-hist. Inserted only when import_rates has not
#: loaded them already, so load_demo works on a fresh database.
ECB_RATES = [
    ("DKK", date(2024, 2, 2), "7.4540"),
    ("ISK", date(2024, 5, 31), "149.10"),
]

# (code, name, kind)
MEMBERS = [
    ("EE", "Estonia", "country"),
    ("LU", "Luxembourg", "country"),
    ("UA", "Ukraine", "country"),
    ("BE", "Belgium", "country"),
    ("GB", "United Kingdom", "country"),
    ("DK", "Denmark", "country"),
    ("IS", "Iceland", "country"),
    ("IT", "Italy", "country"),
    ("LV", "Latvia", "country"),
    ("LT", "Lithuania", "country"),
    ("NL", "Netherlands", "country"),
    ("DE", "Germany", "country"),
    ("PL", "Poland", "country"),
    ("US", "United States", "country"),
    ("JP", "Japan", "country"),
    ("ES", "Spain", "country"),
    ("NATO", "North Atlantic Treaty Organization", "organisation"),
    ("EU", "European Union", "organisation"),
]

KICKOFF = date(2023, 9, 19)
# (code, role, since). Ukraine, the beneficiary, signed the Declaration of Intent and is a member.
# The eleven member states of the April 2024 report are the ten named by 6 March plus the United
# Kingdom; the states that only attended (Germany, Poland, the USA, Japan), NATO and the EU are
# observers; Spain observes from the Tallinn meeting, where it confirmed its intention to join.
# "since" is left empty where the reports give no joining date.
MEMBERSHIPS = [
    ("EE", "lead", KICKOFF),
    ("LU", "lead", KICKOFF),
    ("UA", "member", KICKOFF),
    ("BE", "member", KICKOFF),
    ("DK", "member", KICKOFF),
    ("LT", "member", KICKOFF),
    ("LV", "member", KICKOFF),
    ("IS", "member", None),
    ("IT", "member", None),
    ("NL", "member", None),
    ("GB", "member", date(2024, 4, 4)),
    ("DE", "observer", date(2024, 2, 2)),
    ("PL", "observer", date(2024, 2, 2)),
    ("US", "observer", date(2024, 2, 2)),
    ("JP", "observer", date(2024, 2, 2)),
    ("NATO", "observer", date(2024, 2, 2)),
    ("EU", "observer", date(2024, 2, 2)),
    ("ES", "observer", date(2024, 5, 31)),
]


def _at(year, month, day, hour=9):
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


def _present(codes, role="participant"):
    return [(code, role, "present") for code in codes]


CHAIRS = _present(["EE", "LU"], "chair")

# Each meeting: its fields, then attendance (code, role, status), agenda (order, title, notes,
# outcome), decisions (key, kind, text), action items (text, owner, due_on, final status).
# "held" meetings are marked held and their minutes approved once everything is recorded.
MEETINGS = [
    {
        "key": "kickoff",
        "title": "Kick-off meeting at the 15th Ukraine Defense Contact Group",
        "kind": "plenary",
        "starts_at": _at(2023, 9, 19),
        "location": "Ramstein Air Base, Germany",
        "online": False,
        "held": True,
        "minutes": (
            "The IT Coalition, announced on 15 June 2023 at the Ukraine Defense Contact Group, was "
            "launched at the group's 15th meeting. 20 countries took part; only the signatories of the "
            "Declaration of Intent are named in the report and listed as present here. Goal: a secure "
            "and resilient IT infrastructure for Ukraine's Ministry of Defence and Defence Forces.\n"
            f"Source: {SRC_KICKOFF}."
        ),
        "attendance": CHAIRS + _present(["UA", "BE", "DK", "LT", "LV"]),
        "agenda": [
            (1, "Launch of the IT Coalition", "20 countries took part.", "Coalition launched."),
            (
                2,
                "Declaration of Intent",
                "",
                "Signed by Belgium, Denmark, Lithuania and Latvia with Ukraine, Estonia and Luxembourg.",
            ),
            (3, "First pledges", "", "Luxembourg announced the first pledge."),
        ],
        "decisions": [
            (
                "declaration",
                "other",
                "Belgium, Denmark, Lithuania and Latvia signed a Declaration of Intent with Ukraine, Estonia "
                "and Luxembourg to build a secure and resilient IT infrastructure for Ukraine's Ministry of "
                "Defence and Defence Forces.",
            ),
            ("first-pledge", "other", "Luxembourg announced the first pledge to the coalition."),
        ],
        "action_items": [],
    },
    {
        "key": "sg1",
        "title": "First steering group meeting",
        "kind": "steering_group",
        "starts_at": _at(2024, 2, 2),
        "location": "",
        "online": False,
        "held": True,
        "minutes": (
            "Estonia and Luxembourg, the lead countries, chaired. Belgium, the United Kingdom, Denmark, "
            "Iceland, Italy, Latvia, Lithuania, the Netherlands, Germany, Poland, the USA and Japan were "
            "present, and NATO and the EU joined. The meeting determined the coalition's priorities, its "
            "next steps and how it supports the Armed Forces and the Ministry of Defence of Ukraine, "
            "including on their way to NATO compliance. Estonia, Luxembourg, Denmark, Latvia, Lithuania and "
            "the Netherlands confirmed contributions totalling more than EUR 30 million. Luxembourg called "
            "on further countries to join. The report does not say where the meeting took place.\n"
            f"Source: {SRC_SG1}."
        ),
        "attendance": CHAIRS
        + _present(["BE", "GB", "DK", "IS", "IT", "LV", "LT", "NL"])
        + _present(["DE", "PL", "US", "JP", "NATO", "EU"], "observer"),
        "agenda": [
            (1, "Priorities of the IT Coalition", "", "Priorities and priority purchases set."),
            (
                2,
                "Contributions",
                "",
                "Estonia, Luxembourg, Denmark, Latvia, Lithuania and the Netherlands confirmed contributions "
                "totalling more than EUR 30 million.",
            ),
            (
                3,
                "Next steps",
                "How the coalition supports the Armed Forces and the Ministry of Defence of Ukraine.",
                "Next steps agreed; cooperation on the digital transformation of Ukraine's defence continues.",
            ),
        ],
        "decisions": [
            ("priorities", "priority_set", "The steering group set the coalition's priorities and priority purchases."),
            (
                "pledges",
                "pledge_confirmed",
                "Estonia, Luxembourg, Denmark, Latvia, Lithuania and the Netherlands confirmed contributions "
                "totalling more than EUR 30 million.",
            ),
            (
                "next-steps",
                "other",
                "Next steps agreed: prepare the first procurement of priority requests, organise the work in "
                "expert groups and invite further countries to join.",
            ),
        ],
        "action_items": [
            ("Prepare the first procurement of priority requests.", "LU", date(2024, 3, 31), "done"),
            ("Set up thematic expert groups.", "EE", date(2024, 4, 4), "done"),
            ("Invite further countries to join the coalition.", "LU", date(2024, 5, 31), "done"),
        ],
    },
    {
        "key": "sg2",
        "title": "Second steering group meeting",
        "kind": "steering_group",
        "starts_at": _at(2024, 4, 4),
        "location": "Luxembourg",
        "online": False,
        "held": True,
        "minutes": (
            "Held in Luxembourg in early April 2024 (reported on 8 April; the exact day used here is "
            "illustrative). 11 member states, 7 observer countries, the EU and NATO took part; the report "
            "names neither, so the demo lists its eleven members and NATO and the EU. Four thematic expert "
            "groups were set up. The meeting reviewed the status of current purchases, the priorities for "
            "2024 and a procurement-planning roadmap for 2024 and beyond. Estonia and Luxembourg announced "
            "further contributions; the United Kingdom completed its accession by a declaration of intent. "
            "The first orders have been placed and the first deliveries are under way.\n"
            f"Sources: {SRC_MARCH}; {SRC_SG2}."
        ),
        "attendance": CHAIRS
        + _present(["UA", "BE", "DK", "IS", "IT", "LV", "LT", "NL", "GB"])
        + _present(["NATO", "EU"], "observer"),
        "agenda": [
            (
                1,
                "Progress since the first steering group meeting",
                "On 6 March 2024 the Ministry of Defence of Ukraine reported that 11 states had joined and that "
                "the contributions were enough for the first procurement of priority requests. A six-year "
                "cooperation agreement was finalised in February 2024.",
                "First orders placed; first deliveries under way.",
            ),
            (2, "Expert groups", "", "Four thematic expert groups set up."),
            (
                3,
                "Priorities for 2024 and procurement roadmap",
                "Status of current purchases.",
                "Procurement-planning roadmap for 2024 and beyond adopted.",
            ),
            (
                4,
                "Contributions and accessions",
                "",
                "Estonia and Luxembourg announced further contributions; the United Kingdom acceded.",
            ),
        ],
        "decisions": [
            ("expert-groups", "other", "Four thematic expert groups were set up."),
            (
                "roadmap",
                "priority_set",
                "The priorities for 2024 and a procurement-planning roadmap for 2024 and beyond were adopted.",
            ),
            ("further-pledges", "pledge_confirmed", "Estonia and Luxembourg announced further contributions."),
            (
                "uk-accession",
                "other",
                "The United Kingdom completed its accession to the coalition by a declaration of intent.",
            ),
        ],
        "action_items": [
            (
                "Bring the procurement roadmap up to date for the next steering group meeting.",
                "EE",
                date(2024, 5, 31),
                "done",
            ),
        ],
    },
    {
        "key": "tallinn",
        "title": "Steering group meeting in Tallinn",
        "kind": "steering_group",
        "starts_at": _at(2024, 5, 31),
        "location": "Tallinn, Estonia",
        "online": False,
        "held": True,
        "minutes": (
            "The coalition has raised EUR 58 million in total. Luxembourg, Iceland, Estonia and Belgium "
            "announced an additional EUR 22 million. The funding goes mainly to the Oberih electronic "
            "register of persons liable for military service. Spain confirmed its intention to join the "
            "coalition. Only the countries named in the report are listed as present.\n"
            f"Source: {SRC_TALLINN}."
        ),
        "attendance": CHAIRS + _present(["IS", "BE"]) + _present(["ES"], "observer"),
        "agenda": [
            (
                1,
                "Contributions",
                "",
                "An additional EUR 22 million from Luxembourg, Iceland, Estonia and Belgium; EUR 58 million in total.",
            ),
            (
                2,
                "Use of the funds",
                "",
                "Mainly the Oberih electronic register of persons liable for military service.",
            ),
            (3, "New members", "", "Spain confirmed its intention to join."),
        ],
        "decisions": [
            (
                "additional-pledges",
                "pledge_confirmed",
                "Luxembourg, Iceland, Estonia and Belgium announced an additional EUR 22 million, bringing the "
                "total raised to EUR 58 million.",
            ),
            (
                "oberih",
                "priority_set",
                "The funding goes mainly to the Oberih electronic register of persons liable for military service.",
            ),
            ("spain", "other", "Spain confirmed its intention to join the coalition."),
        ],
        # Still open: they follow to the next (planned) meeting's page.
        "action_items": [
            (
                "Procure the Oberih electronic register of persons liable for military service with the "
                "additional contributions.",
                "EE",
                date(2027, 3, 18),
                "open",
            ),
            ("Complete Spain's accession by a declaration of intent.", "ES", date(2027, 3, 18), "open"),
            (
                "Report on the deliveries of the first orders to the next steering group meeting.",
                "LU",
                date(2027, 3, 18),
                "open",
            ),
        ],
    },
    {
        "key": "next",
        "title": "Steering group meeting (planned)",
        "kind": "steering_group",
        "starts_at": _at(2027, 3, 18),
        "location": "",
        "online": True,
        "held": False,
        "minutes": "",
        "attendance": [("EE", "chair", "invited"), ("LU", "chair", "invited")],
        "agenda": [
            (1, "Open action items", "Items still open from the Tallinn meeting.", ""),
            (2, "Status of procurement and deliveries", "The date of this meeting is illustrative.", ""),
        ],
        "decisions": [],
        "action_items": [],
    },
]

_OWN_FIGURE = "Illustrative amount: the reports publish no per-country figure, only the total"
_SG1_TOTAL = f"{_OWN_FIGURE} of the six confirmations on 2 February 2024 (more than EUR 30 million)."
_SG2_TOTAL = f"{_OWN_FIGURE}; the coalition's published total is EUR 58 million by 31 May 2024."
_TALLINN_TOTAL = f"{_OWN_FIGURE} of the additional contributions of 31 May 2024 (EUR 22 million)."

# Each pledge: external_ref (its natural key), member, title, amount, currency, announced_on,
# status it ends in before disbursements ("draft", "announced" or "confirmed"), the meeting that
# confirmed it, the decisions it belongs to (meeting key, decision key), source, description.
PLEDGES = [
    {
        "ref": "DEMO-LU-2023-09",
        "member": "LU",
        "title": "Luxembourg: first contribution",
        "amount": "10000000.00",
        "currency": "EUR",
        "announced_on": KICKOFF,
        "status": "confirmed",
        "confirmed_at": "sg1",
        "decisions": [("kickoff", "first-pledge"), ("sg1", "pledges")],
        "source": f"{SRC_KICKOFF}; {SRC_SG1}",
        "description": "The coalition's first pledge, announced at the kick-off and confirmed at the first "
        f"steering group meeting. {_SG1_TOTAL}",
    },
    *[
        {
            "ref": f"DEMO-{code}-2024-02",
            "member": code,
            "title": f"{name}: contribution confirmed at the first steering group meeting",
            "amount": amount,
            "currency": currency,
            "announced_on": date(2024, 2, 2),
            "status": "confirmed",
            "confirmed_at": "sg1",
            "decisions": [("sg1", "pledges")],
            "source": SRC_SG1,
            "description": f"Confirmed at the first steering group meeting. {_SG1_TOTAL}{note}",
        }
        for code, name, amount, currency, note in [
            ("EE", "Estonia", "8000000.00", "EUR", ""),
            # DKK 37,270,000 at the ECB rate of 2 February 2024 (7.4540) is EUR 5,000,000.00.
            ("DK", "Denmark", "37270000.00", "DKK", " Pledged in Danish kroner, converted at the ECB rate of the day."),
            ("LV", "Latvia", "2000000.00", "EUR", ""),
            ("LT", "Lithuania", "2500000.00", "EUR", ""),
            ("NL", "Netherlands", "3000000.00", "EUR", ""),
        ]
    ],
    *[
        {
            "ref": f"DEMO-{code}-2024-04",
            "member": code,
            "title": f"{name}: further contribution",
            "amount": amount,
            "currency": "EUR",
            "announced_on": date(2024, 4, 4),
            "status": "confirmed",
            "confirmed_at": "sg2",
            "decisions": [("sg2", "further-pledges")],
            "source": SRC_SG2,
            "description": f"Announced at the second steering group meeting in Luxembourg. {_SG2_TOTAL}",
        }
        for code, name, amount in [("EE", "Estonia", "2500000.00"), ("LU", "Luxembourg", "3000000.00")]
    ],
    *[
        {
            "ref": f"DEMO-{code}-2024-05",
            "member": code,
            "title": f"{name}: additional contribution (Tallinn)",
            "amount": amount,
            "currency": currency,
            "announced_on": date(2024, 5, 31),
            "status": status,
            "confirmed_at": "tallinn" if status == "confirmed" else None,
            "decisions": [("tallinn", "additional-pledges")],
            "source": SRC_TALLINN,
            "description": f"Announced at the Tallinn meeting, mainly for the Oberih electronic register. "
            f"{_TALLINN_TOTAL}{note}",
        }
        for code, name, amount, currency, status, note in [
            ("LU", "Luxembourg", "8000000.00", "EUR", "confirmed", ""),
            ("EE", "Estonia", "7000000.00", "EUR", "confirmed", ""),
            # ISK 298,200,000 at the ECB rate of 31 May 2024 (149.10) is EUR 2,000,000.00.
            (
                "IS",
                "Iceland",
                "298200000.00",
                "ISK",
                "confirmed",
                " Pledged in Icelandic krónur, converted at the ECB rate of the day.",
            ),
            (
                "BE",
                "Belgium",
                "5000000.00",
                "EUR",
                "announced",
                " Shown as announced and awaiting confirmation, as the report words it (the state is illustrative).",
            ),
        ]
    ],
    {
        "ref": "DEMO-EE-2024-10-DRAFT",
        "member": "EE",
        "title": "Estonia: further contribution for 2025 (draft)",
        "amount": "1500000.00",
        "currency": "EUR",
        "announced_on": date(2024, 10, 1),
        "status": "draft",
        "confirmed_at": None,
        "decisions": [],
        "source": "",
        "description": "A draft being prepared by Estonia's editors: drafts are seen only by the member's editors "
        "and the secretariat, and count in no total. Illustrative: no such pledge was reported.",
    },
]

# Disbursements: (pledge ref, reference, amount in the pledge's currency, date). All illustrative.
DISBURSEMENT_NOTE = "Illustrative: the reports publish no disbursements."
DISBURSEMENTS = [
    ("DEMO-LU-2023-09", "DEMO-LU-2023-09-D1", "4000000.00", date(2024, 3, 15)),
    ("DEMO-LU-2023-09", "DEMO-LU-2023-09-D2", "3000000.00", date(2024, 6, 28)),
    ("DEMO-EE-2024-02", "DEMO-EE-2024-02-D1", "2000000.00", date(2024, 4, 15)),
    ("DEMO-LV-2024-02", "DEMO-LV-2024-02-D1", "2000000.00", date(2024, 4, 30)),
    ("DEMO-NL-2024-02", "DEMO-NL-2024-02-D1", "3000000.00", date(2024, 5, 15)),
    ("DEMO-DK-2024-02", "DEMO-DK-2024-02-D1", "18635000.00", date(2024, 6, 14)),
]

_COST_NOTE = "The estimated cost and the procurement state are illustrative."
# Priority purchases approved at the first steering group meeting: key, title, category, rank,
# estimated cost (EUR), final status, the decisions they belong to, description.
PRIORITIES = [
    {
        "key": "oberih",
        "title": "Oberih electronic register of persons liable for military service",
        "category": "Registers and software",
        "rank": 1,
        "cost": "25000000.00",
        "status": "in_procurement",
        "decisions": [("sg1", "priorities"), ("sg2", "roadmap"), ("tallinn", "oberih")],
        "description": "The main use of the funds announced at the Tallinn meeting of 31 May 2024. " + _COST_NOTE,
    },
    {
        "key": "secure-it",
        "title": "Secure communications and IT infrastructure for the Ministry of Defence and the Defence Forces",
        "category": "Infrastructure",
        "rank": 2,
        "cost": "15000000.00",
        "status": "in_procurement",
        "decisions": [("sg1", "priorities"), ("sg2", "roadmap")],
        "description": "The coalition's founding goal: a secure and resilient IT infrastructure. " + _COST_NOTE,
    },
    {
        "key": "cyber",
        "title": "Cyber defence of military networks",
        "category": "Cyber security",
        "rank": 3,
        "cost": "10000000.00",
        "status": "approved",
        "decisions": [("sg1", "priorities"), ("sg2", "roadmap")],
        "description": _COST_NOTE,
    },
    {
        "key": "equipment",
        "title": "Equipment: computers, servers and satellite terminals",
        "category": "Equipment",
        "rank": 4,
        "cost": "12000000.00",
        "status": "contracted",
        "decisions": [("sg1", "priorities"), ("sg2", "roadmap")],
        "description": "First orders placed and first deliveries under way by April 2024. " + _COST_NOTE,
    },
    {
        "key": "nato-standards",
        "title": "NATO-compatible IT standards and training",
        "category": "Standards and training",
        "rank": 5,
        "cost": "5000000.00",
        "status": "approved",
        "decisions": [("sg1", "priorities")],
        "description": "Supporting the Armed Forces of Ukraine on their way to NATO compliance. " + _COST_NOTE,
    },
]

# Allocations (pledge ref, priority key, EUR): Oberih and the secure infrastructure fully funded,
# cyber defence and equipment partly, NATO standards not yet; Estonia's April pledge unallocated.
ALLOCATION_NOTE = "Illustrative allocation."
ALLOCATIONS = [
    ("DEMO-LU-2024-05", "oberih", "8000000.00"),
    ("DEMO-EE-2024-05", "oberih", "7000000.00"),
    ("DEMO-BE-2024-05", "oberih", "5000000.00"),
    ("DEMO-IS-2024-05", "oberih", "2000000.00"),
    ("DEMO-LU-2024-04", "oberih", "3000000.00"),
    ("DEMO-LU-2023-09", "secure-it", "10000000.00"),
    ("DEMO-DK-2024-02", "secure-it", "5000000.00"),
    ("DEMO-EE-2024-02", "cyber", "8000000.00"),
    ("DEMO-NL-2024-02", "equipment", "3000000.00"),
    ("DEMO-LT-2024-02", "equipment", "2500000.00"),
    ("DEMO-LV-2024-02", "equipment", "2000000.00"),
]

# Demo accounts: (username, role, member code). "admin" is a superuser.
USERS = [
    ("admin", "superuser", None),
    ("secretariat", "secretariat", None),
    ("editor-ee", "member-editor", "EE"),
    ("editor-lu", "member-editor", "LU"),
    ("steering", "steering", None),
    ("partner", "partner", None),
]
