"""Re-encrypt every stored secret under the first of INTEGRATIONS_ENCRYPTION_KEYS (key rotation)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from core import crypto
from integrations.models import Integration, WebhookSubscription


class Command(BaseCommand):
    help = "Re-encrypt integration and webhook secrets with the first key of INTEGRATIONS_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        count = 0
        for model, field in ((Integration, "secrets_encrypted"), (WebhookSubscription, "secret_encrypted")):
            for pk in model.objects.values_list("pk", flat=True).iterator():
                with transaction.atomic():
                    row = model.objects.select_for_update().get(pk=pk)
                    setattr(row, field, crypto.rotate(getattr(row, field)))
                    row.save(update_fields=[field])
                    count += 1
        self.stdout.write(f"{count} secret(s) re-encrypted under the current key.")
