"""``manage.py grant_role USERNAME ROLE --coalition SLUG [--member CODE]``: create the user if missing and
give them a seat with ROLE in each coalition named (the way to make the first secretariat user, or a
partner for the API). A seat the user already has in that coalition takes the new role."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from coalition import permissions
from coalition.management.seats import describe_seats, find_coalition
from coalition.models import Member
from coalition.services import role_grant


class Command(BaseCommand):
    help = "Create USERNAME if missing and seat them as ROLE (" + ", ".join(permissions.ROLES) + ") in coalitions."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", help="one of " + ", ".join(permissions.ROLES))
        parser.add_argument(
            "--coalition",
            metavar="SLUG",
            action="append",
            default=[],
            dest="coalitions",
            help="the coalition the role is held in (repeatable: the same role in each)",
        )
        parser.add_argument("--member", metavar="CODE", help="the member a member-editor speaks for")
        parser.add_argument("--password", help="set this password (new users otherwise get none and cannot sign in)")
        parser.add_argument("--email")

    def handle(self, *args, username, role, coalitions=(), member=None, password=None, email=None, **options):
        if role not in permissions.ROLES:
            raise CommandError(f"Unknown role {role!r}: use one of {', '.join(permissions.ROLES)}.")
        if not coalitions:
            raise CommandError("A role is held in a coalition: give --coalition SLUG (repeatable).")
        member_obj = None
        if member:
            member_obj = Member.objects.filter(code=member.strip().upper()).first()
            if member_obj is None:
                known = ", ".join(Member.objects.values_list("code", flat=True)) or "none yet"
                raise CommandError(f"No member with code {member!r} (known: {known}).")
        coalition_objs = [find_coalition(slug) for slug in coalitions]
        try:
            user, created, changes = role_grant(
                username=username,
                role=role,
                member=member_obj,
                coalitions=coalition_objs,
                password=password,
                email=email,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

        if password:
            sign_in = "password set"
        elif user.has_usable_password():
            sign_in = "password unchanged"
        else:
            sign_in = "no password (set one with --password to sign in)"
        self.stdout.write(f"{'Created' if created else 'Updated existing'} user {user.username}: {sign_in}.")
        speaks_for = f" for {member_obj.code}" if member_obj and role == permissions.MEMBER_EDITOR else ""
        for coalition, previous in changes:
            if previous is None:
                was = "new seat"
            elif previous == role:
                was = "unchanged"
            else:
                was = f"was {previous}"
            self.stdout.write(f"  {coalition.slug}: {role}{speaks_for} ({was})")
        self.stdout.write(f"  seats now: {describe_seats(user)}")
