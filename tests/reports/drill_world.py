"""Data of the fault drill, written into the drill's own PostgreSQL cluster by a ``manage.py shell``
subprocess (the drill's database is not the test process's). Each function prints one JSON line."""

import json
from decimal import Decimal

from django.conf import settings

from tests import factories


def _fast_passwords():
    # 500 personas with PBKDF2 would take minutes; their passwords are never used by the drill.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def build(readers):
    """A coalition with ``readers`` digest subscribers (``readers - 1`` steering seats and the
    secretariat, who also gets the confirmation notices) and an announced pledge to confirm later."""
    _fast_passwords()
    factories.standard_rates()
    coalition = factories.CoalitionFactory(slug="drill-coalition", name="Drill Coalition")
    member = factories.MemberFactory(code="EE", name="Estonia")
    factories.MembershipFactory(member=member, coalition=coalition, role="lead")
    factories.persona("drill-secretariat", "secretariat", coalitions=[coalition])
    for n in range(readers - 1):
        factories.persona(f"reader{n:03d}", "steering", coalitions=[coalition])
    pledge = factories.make_pledge(
        coalition=coalition, member=member, amount=Decimal("250000.00"), title="Drill pledge"
    )
    print(json.dumps({"coalition": coalition.pk, "pledge": pledge.pk}))


def confirm(pledge_id):
    """Confirm the pledge as the secretariat would, whatever the broker's state; say what the outbox holds."""
    from django.contrib.auth import get_user_model

    from coalition.models import OutboxMessage
    from contributions import services
    from contributions.models import Pledge

    secretariat = get_user_model().objects.get(username="drill-secretariat")
    pledge = services.pledge_confirm(acting_user=secretariat, pledge=Pledge.objects.get(pk=pledge_id))
    waiting = OutboxMessage.objects.filter(done_at__isnull=True).values_list("task", flat=True)
    print(json.dumps({"status": pledge.status, "outbox_waiting": list(waiting)}))
