"""Rows created with given ids, on PostgreSQL (serial sequences) and SQLite (`sqlite_sequence`).

`skip_ids_past(*models)` moves each table's next id past the rows a test created by hand (and
never backwards); `set_next_id(model, n)` makes the next row get id `n` (the contract's ids).
"""

from django.db import connection


def skip_ids_past(*models, floor: int = 1000) -> None:
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            if connection.vendor == "postgresql":
                # setval is not rolled back with the test's transaction: only ever move forward, or
                # later tests get ids again that a per-process cache (the engine's flow specs) knows.
                cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                (sequence,) = cursor.fetchone()
                cursor.execute(
                    f"SELECT setval('{sequence}', GREATEST((SELECT COALESCE(MAX(id), 1) FROM {table}), "
                    f"(SELECT last_value FROM {sequence}), %s), true)",
                    [floor],
                )
            else:
                _set_sqlite_sequence(cursor, table, f"MAX((SELECT COALESCE(MAX(id), 0) FROM {table}), %s)", [floor])


def set_next_id(model, next_id: int) -> None:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s, false)", [next_id])
        else:
            _set_sqlite_sequence(cursor, table, "%s", [next_id - 1])


def _set_sqlite_sequence(cursor, table: str, value_sql: str, params: list) -> None:
    # Django's SQLite ids are AUTOINCREMENT: the next one is sqlite_sequence's value plus one.
    cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
    cursor.execute(f"INSERT INTO sqlite_sequence (name, seq) VALUES (%s, {value_sql})", [table, *params])
