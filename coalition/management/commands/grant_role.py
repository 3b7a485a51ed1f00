"""``manage.py grant_role USERNAME ROLE``: create the user if missing and grant a role, a member and
coalitions (the way to make the first secretariat user, or a partner for the API)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from coalition import permissions
from coalition.models import Coalition, Member, Profile
from coalition.services import role_grant


class Command(BaseCommand):
    help = "Create USERNAME if missing and grant ROLE (" + ", ".join(permissions.ROLES) + ")."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", help="one of " + ", ".join(permissions.ROLES))
        parser.add_argument("--member", metavar="CODE", help="the member the user speaks for (needed by member-editor)")
        parser.add_argument(
            "--coalition",
            metavar="SLUG",
            action="append",
            default=[],
            dest="coalitions",
            help="a coalition the user serves (repeatable)",
        )
        parser.add_argument("--password", help="set this password (new users otherwise get none and cannot sign in)")
        parser.add_argument("--email")

    def handle(self, *args, username, role, member=None, coalitions=(), password=None, email=None, **options):
        if role not in permissions.ROLES:
            raise CommandError(f"Unknown role {role!r}: use one of {', '.join(permissions.ROLES)}.")
        member_obj = None
        if member:
            member_obj = Member.objects.filter(code=member.strip().upper()).first()
            if member_obj is None:
                known = ", ".join(Member.objects.values_list("code", flat=True)) or "none yet"
                raise CommandError(f"No member with code {member!r} (known: {known}).")
        coalition_objs = []
        for slug in coalitions:
            coalition = Coalition.objects.filter(slug=slug).first()
            if coalition is None:
                known = ", ".join(Coalition.objects.values_list("slug", flat=True)) or "none yet"
                raise CommandError(f"No coalition with slug {slug!r} (known: {known}).")
            coalition_objs.append(coalition)
        try:
            user, created = role_grant(
                username=username,
                role=role,
                member=member_obj,
                coalitions=coalition_objs,
                password=password,
                email=email,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc

        profile = Profile.objects.select_related("member").get(user=user)
        served = ", ".join(profile.coalitions.order_by("slug").values_list("slug", flat=True)) or "none"
        roles = ", ".join(sorted(user.groups.filter(name__in=permissions.ROLES).values_list("name", flat=True)))
        if password:
            sign_in = "password set"
        elif user.has_usable_password():
            sign_in = "password unchanged"
        else:
            sign_in = "no password (set one with --password to sign in)"
        self.stdout.write(f"{'Created' if created else 'Updated existing'} user {user.username}: {sign_in}.")
        self.stdout.write(f"  granted role: {role} (roles now: {roles})")
        self.stdout.write(f"  member: {profile.member or 'none'}")
        self.stdout.write(f"  coalitions: {served}")
