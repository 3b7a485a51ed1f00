"""``manage.py revoke_role USERNAME --coalition SLUG``: take away the user's seat in a coalition."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from coalition.management.seats import describe_seats, find_coalition
from coalition.services import seat_remove


class Command(BaseCommand):
    help = "Take away USERNAME's seat (their role) in each coalition named."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--coalition", metavar="SLUG", action="append", default=[], dest="coalitions", help="repeatable"
        )

    def handle(self, *args, username, coalitions=(), **options):
        if not coalitions:
            raise CommandError("Give --coalition SLUG: the coalition whose seat is taken away (repeatable).")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        for slug in coalitions:
            coalition = find_coalition(slug)
            previous = seat_remove(acting_user=None, user=user, coalition=coalition)
            if previous is None:
                self.stdout.write(f"{user.username} had no seat in {coalition.slug}: nothing to do.")
            else:
                self.stdout.write(f"{user.username} is no longer {previous} in {coalition.slug}.")
        self.stdout.write(f"  seats now: {describe_seats(user)}")
