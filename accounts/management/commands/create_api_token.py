from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import create_api_token


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (alone on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'CRM'.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        token, key = create_api_token(user=user, name=name)
        self.stderr.write(f"Token {token.prefix}… created for {username}; it is shown only once.")
        self.stdout.write(key)
