"""A random id of this database, which every Redis key of the deployment starts with (`config.redis`).

A plain table, not a model: `manage.py flush` and the test runner's flushes leave it, so
the processes that share a database keep agreeing on it; a new database gets a new one,
so it inherits no counters or limiter slots from a Redis that served another.
"""

import secrets

from django.db import migrations


def create(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE TABLE {quote('accounts_installation')} ({quote('id')} integer PRIMARY KEY, {quote('key')} varchar(32) NOT NULL)"
    )
    schema_editor.execute(
        f"INSERT INTO {quote('accounts_installation')} ({quote('id')}, {quote('key')}) VALUES (1, %s)",
        [secrets.token_hex(6)],
    )


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE {schema_editor.quote_name('accounts_installation')}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
