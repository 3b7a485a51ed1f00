"""``manage.py create_api_key USERNAME``: issue an API key and print it once (only its digest is kept)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from coalition.services import api_key_create


class Command(BaseCommand):
    help = "Issue an API key for USERNAME. The key is printed once, as the last line; only its digest is stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="default", help="a label to tell the user's keys apart")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}: create one first (manage.py grant_role {username} partner ...).")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive: their keys would be refused.")
        api_key, raw_key = api_key_create(owner=user, name=name)
        self.stdout.write(
            f"API key {api_key.name!r} for {user.username} (prefix {api_key.prefix}). It is shown only this once; "
            "send it as 'Authorization: Token <key>':"
        )
        self.stdout.write(raw_key)
