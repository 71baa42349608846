from django.core.management.base import BaseCommand, CommandError

from core.redis import get_redis, installation_id, prefix


class Command(BaseCommand):
    help = (
        "Delete this database's Redis keys (counters, limiter slots, debounce bursts, cache: everything under "
        "REDIS_KEY_PREFIX and the database's installation id). Run it after restoring a backup, with every "
        "process stopped; the broker's queued tasks are flushed by `celery -A config purge -f`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count the keys.")

    def handle(self, *args, dry_run=False, **options):
        client = get_redis()
        if client is None:
            raise CommandError("REDIS_URL is not set: there are no Redis keys to flush.")
        if not installation_id():
            raise CommandError("The database has no installation id yet: run `manage.py migrate` first.")
        pattern = f"{prefix()}:*"
        count, batch = 0, []
        for name in client.scan_iter(match=pattern, count=1000):
            count += 1
            if not dry_run:
                batch.append(name)
                if len(batch) >= 500:
                    client.delete(*batch)
                    batch = []
        if batch:
            client.delete(*batch)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(f"{pattern}: {verb} {count} keys")
