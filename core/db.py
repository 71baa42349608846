"""Database connection tuning for long-running web workers, and one-statement updates of many rows."""

import random
import time

from django.db import connection


def spread_reconnects(sender, connection, **kwargs):
    """`connection_created` receiver: a connection lives a random half to all of CONN_MAX_AGE.

    A worker's threads open their connections at its first requests; with the same age
    they all reconnect in the same second, every CONN_MAX_AGE, and under load that second
    stalls the worker (it was the webhook endpoint's p99 in bench/webhooks.py).
    """
    max_age = connection.settings_dict.get("CONN_MAX_AGE")
    if max_age:
        connection.close_at = time.monotonic() + max_age * random.uniform(0.5, 1.0)


def update_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Set each row's own values: `rows` are (pk, value of each of `fields`), in one statement.

    PostgreSQL: `UPDATE … FROM (VALUES …)`, each value cast to its column's type (Django's
    `bulk_update` builds a CASE per field and row, which costs more to compile than the
    statement costs to run). Elsewhere (SQLite in the embedded mode): `bulk_update`.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model(pk=row[0], **dict(zip(fields, row[1:], strict=True))) for row in rows]
        model.objects.bulk_update(objects, fields)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in columns) + ")"
    names = [f"c{i}" for i in range(len(columns))]
    assignments = ", ".join(f"{field.column} = v.{name}" for field, name in zip(columns[1:], names[1:], strict=True))
    values = [
        field.get_db_prep_save(value, connection)
        for values in rows
        for field, value in zip(columns, values, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {meta.db_table} AS t SET {assignments} FROM (VALUES {', '.join([row] * len(rows))}) "
            f"AS v ({', '.join(names)}) WHERE t.{meta.pk.column} = v.c0",
            values,
        )
