"""``manage.py unlock_signin USERNAME``: lift the failed-attempt limit on an account at once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from coalition.services import signin_unlock


class Command(BaseCommand):
    help = "Let USERNAME sign in again now, after too many failed attempts locked the account."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        signin_unlock(acting_user=None, user=user)
        self.stdout.write(f"{user.username} may sign in again (the failed attempts are forgotten).")
