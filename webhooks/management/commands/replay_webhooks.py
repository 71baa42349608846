from django.core.management.base import BaseCommand, CommandError

from webhooks.evolution import queue
from webhooks.models import WebhookEvent


class Command(BaseCommand):
    help = (
        "Apply stored webhook events again: failed and pending ones by default. "
        "Applying is idempotent, so --status applied --force re-applies safely."
    )

    def add_arguments(self, parser):
        parser.add_argument("ids", nargs="*", type=int, help="Event ids (default: every event in --status)")
        parser.add_argument(
            "--status", action="append", choices=WebhookEvent.Status.values, help="Repeatable; default failed, pending"
        )
        parser.add_argument("--event", help="Only this event, e.g. messages.update")
        parser.add_argument("--instance", help="Only this instance (its provider instance name)")
        parser.add_argument("--limit", type=int, default=10_000)
        parser.add_argument("--force", action="store_true", help="Also re-apply events already applied")

    def handle(self, *args, ids, status, event, instance, limit, force, **options):
        events = WebhookEvent.objects.all()
        if ids:
            events = events.filter(id__in=ids)
        else:
            events = events.filter(status__in=status or [WebhookEvent.Status.FAILED, WebhookEvent.Status.PENDING])
        if event:
            events = events.filter(event=event)
        if instance:
            events = events.filter(instance__instance_name=instance)
        event_ids = list(events.order_by("received_at", "id").values_list("id", flat=True)[:limit])
        if ids and len(event_ids) != len(set(ids)):
            raise CommandError(f"Unknown event ids: {sorted(set(ids) - set(event_ids))}")
        results = queue.replay(event_ids=event_ids, force=force)
        summary = ", ".join(f"{result}: {count}" for result, count in sorted(results.items())) or "nothing to replay"
        self.stdout.write(f"{len(event_ids)} event(s) replayed ({summary})")
