import json

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from flows.transfer import TransferError, import_template


class Command(BaseCommand):
    help = "Create a flow template from a JSON document written by export_flows (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The JSON file")
        parser.add_argument("--organization", required=True, help="Slug of the organization it goes to")

    def handle(self, *args, path, organization, **options):
        target = Organization.objects.filter(slug=organization).first()
        if target is None:
            raise CommandError(f"Organization {organization!r} does not exist.")
        try:
            with open(path, encoding="utf-8") as file:
                document = json.load(file)
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None
        try:
            template = import_template(organization=target, document=document)
        except TransferError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Imported flow template {template.id} ({template.name}).")
