from django.core.management.base import BaseCommand

from config.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Delete webhook events, message history, sandbox messages, send slots, campaign logs and flow "
        "activity older than their RETENTION_* days, in small batches (the nightly `ops: retention` job)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args, dry_run=False, **options):
        counts = apply_retention(dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for kind, count in counts.items():
            self.stdout.write(f"{kind}: {verb} {count}")
