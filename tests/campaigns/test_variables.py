"""Variables compiled to SQL, on the embedded default too (SQLite with DEBUG's query logging)."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

SCRIPT = """
from django.core.management import call_command
call_command("migrate", verbosity=0)
from accounts.models import Organization
from campaigns import variables
from contacts.models import Contact
organization = Organization.objects.create(name="Loja", slug="loja")
Contact.objects.create(organization=organization, phone="+5511999999999", name="Ana")
rows = Contact.objects.annotate(v=variables.expression({"t": "em {{contact.created_at}}"})).values_list("v", flat=True)
print(list(rows)[0]["t"])
"""


def test_contact_times_compile_on_sqlite_with_debug_query_logging(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    manage = Path(settings.BASE_DIR) / "manage.py"
    result = subprocess.run(
        [sys.executable, str(manage), "shell", "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1].startswith("em 20")
