import os

from django.core.management.base import BaseCommand

from accounts.demo import SEEDERS
from accounts.services import seed_demo_organization


class Command(BaseCommand):
    help = (
        "Create the demo organization 'demo' and the superuser 'admin' (password from "
        "DEMO_ADMIN_PASSWORD, or generated and printed once), then each app's demo data. "
        "Safe to run again."
    )

    def handle(self, *args, **options):
        organization, generated = seed_demo_organization(admin_password=os.environ.get("DEMO_ADMIN_PASSWORD") or None)
        for seed in SEEDERS:
            seed(organization)
        self.stdout.write(f"Demo organization '{organization.slug}' is ready.")
        if generated:
            self.stdout.write(self.style.WARNING(f"Admin login: admin / {generated}  (shown only this once)"))
        elif not os.environ.get("DEMO_ADMIN_PASSWORD"):
            self.stdout.write(
                "The superuser is admin, its password was printed the first time. Forgot it? "
                "Run `.venv/bin/python manage.py changepassword admin` (or set DEMO_ADMIN_PASSWORD and run again)."
            )
