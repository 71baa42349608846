"""Storing accepted events: the `WebhookEvent` rows are the intake's queue.

Two ways in, one table:
- `store()`: one event of an instance already known (the sandbox, SQLite, the
  endpoint's slow paths): one `INSERT … ON CONFLICT DO NOTHING RETURNING id`.
- `store_posted()`: what the Evolution endpoint receives, on PostgreSQL, batched by
  `webhooks.group_commit`: one statement finds each event's instance by name, checks
  its credential, inserts the events that pass and are new, and answers for each (the
  instance, the new row's id). One round trip and one commit for every request the
  process has in flight, instead of a lookup, an insert and a commit each.

Credentials reach SQL only as SHA-256 digests, compared with the digest of the stored
secret: a comparison that stops at the first differing byte then tells a caller about
digests, never about the secret. Python decides with `hmac.compare_digest`.
"""

import contextlib
import functools
import hashlib
import json
from datetime import datetime
from typing import NamedTuple

import psycopg
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from instances.models import WhatsAppInstance
from instances.queries import WebhookCaller
from webhooks.auth import credential_matches
from webhooks.models import WebhookEvent

STORED_FIELDS = [
    "organization",
    "provider",
    "instance",
    "event",
    "payload",
    "dedupe_key",
    "received_at",
    "provider_time",
    "status",
    "result",
    "attempts",
    "error",
]


def payload_text(payload, body: bytes | None) -> str:
    """The body as it came, when PostgreSQL's jsonb can hold it (it refuses \\u0000)."""
    text = None
    if body is not None:
        try:
            text = body.decode()
        except UnicodeDecodeError:
            pass
    if text is None or "\\u0000" in text:
        text = json.dumps(_without_nul(payload))
    return text


def _without_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def store(*, instance, provider: str, name: str, payload, parsed, body: bytes | None = None) -> int | None:
    """The new event's id, or None when this event was stored before.

    `instance` needs only `id` and `organization_id`. No model, no BEGIN/COMMIT round
    trips, no second JSON encoding: the body goes in as it came.
    """
    values = {
        "organization": instance.organization_id,
        "provider": provider,
        "instance": instance.id,
        "event": name,
        "payload": payload_text(payload, body),
        "dedupe_key": parsed.dedupe_key[:200],
        "received_at": timezone.now(),
        "provider_time": parsed.provider_time,
        "status": WebhookEvent.Status.PENDING,
        "result": "",
        "attempts": 0,
        "error": "",
    }
    fields = [WebhookEvent._meta.get_field(field) for field in STORED_FIELDS]
    params = [values[f.name] if f.name == "payload" else f.get_db_prep_save(values[f.name], connection) for f in fields]
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                return _insert(params)
        return _insert(params)
    except IntegrityError:
        # The instance was deleted since the request looked it up.
        return None


def _insert(params: list) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor), params)
        row = cursor.fetchone()
    return row[0] if row else None


@functools.cache
def _insert_sql(vendor: str) -> str:
    meta, quote = WebhookEvent._meta, connection.ops.quote_name
    fields = [meta.get_field(field) for field in STORED_FIELDS]
    placeholders = ", ".join("%s::jsonb" if f.name == "payload" and vendor == "postgresql" else "%s" for f in fields)
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES ({placeholders}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}"
    )


class PostedEvent(NamedTuple):
    """An event as the Evolution endpoint received it, with the credential that came along."""

    instance_name: str
    credential: str
    by_api_key: bool  # the payload's `apikey` rather than the webhook secret (path or header)
    event: str
    payload: str
    dedupe_key: str
    provider_time: datetime | None
    received_at: datetime


class PostedResult(NamedTuple):
    caller: WebhookCaller | None  # None: no instance has that name
    authenticated: bool
    event_id: int | None  # the new row; None when not stored (unknown, bad credential, or a duplicate)


def can_store_posted() -> bool:
    return connection.vendor == "postgresql"


def store_posted(events: list[PostedEvent]) -> list[PostedResult]:
    """Look up, authenticate and store a batch of posted events in one statement (PostgreSQL)."""
    params = [WebhookEvent.Provider.EVOLUTION, WebhookEvent.Status.PENDING]
    for ord_, event in enumerate(events):
        params += [
            ord_,
            event.instance_name,
            event.by_api_key,
            hashlib.sha256(event.credential.encode()).digest(),
            event.event,
            event.payload,
            event.dedupe_key[:200],
            event.received_at,
            event.provider_time,
        ]
    rows = _execute_unchecked(_posted_sql(len(events)), params)
    if len(rows) != len(events):
        raise RuntimeError(f"{len(rows)} answers for {len(events)} posted events")
    results, taken = [], set()
    for (_, instance_id, organization_id, secret, api_key, event_id), posted in zip(rows, events, strict=True):
        if instance_id is None:
            results.append(PostedResult(None, False, None))
            continue
        caller = WebhookCaller(instance_id, organization_id, secret, api_key)
        stored = api_key if posted.by_api_key else secret
        authenticated = credential_matches(posted.credential, stored)
        if not authenticated or event_id in taken:
            # The same event twice in one batch (Evolution's instance and global webhooks
            # both posting): one row, the later request is a duplicate.
            event_id = None
        if event_id is not None:
            taken.add(event_id)
        results.append(PostedResult(caller, authenticated, event_id))
    return results


def _execute_unchecked(sql: str, params: list) -> list[tuple]:
    """Run one statement on Django's connection without its per-request `SELECT 1` health check.

    A server-side-bound statement on the underlying psycopg connection, prepared there once
    (`DATABASE_PREPARED_STATEMENTS` in the settings; without it PostgreSQL parses and plans
    the statement at every call, which costs more than running it). A
    connection found dead (the database restarted) is opened again and the statement
    sent once more, which is safe because it inserts nothing twice; any other error
    (a lock timeout, a full disk) is raised.
    """
    for attempt in (1, 2):
        connection.ensure_connection()
        try:
            # In the caller's transaction a savepoint keeps it usable if the statement fails.
            savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
            with connection.wrap_database_errors, savepoint, psycopg.Cursor(connection.connection) as cursor:
                cursor.execute(sql, params, prepare=True)
                return cursor.fetchall()
        except (OperationalError, InterfaceError):
            dead = connection.connection is None or connection.connection.broken
            if attempt == 2 or connection.in_atomic_block or not dead:
                raise
            connection.close()
    raise AssertionError("unreachable")


_POSTED_ROW = "(%s::int, %s::text, %s::bool, %s::bytea, %s::text, %s::text, %s::text, %s::timestamptz, %s::timestamptz)"


@functools.cache
def _posted_sql(rows: int) -> str:
    """The statement for a batch of `rows` events (one text, and one prepared statement, per size)."""
    quote = connection.ops.quote_name
    event_meta, instance_meta = WebhookEvent._meta, WhatsAppInstance._meta
    event_column = {name: quote(event_meta.get_field(name).column) for name in STORED_FIELDS}
    instance_column = {
        name: quote(instance_meta.get_field(name).column)
        for name in ("id", "organization", "instance_name", "webhook_secret", "api_key")
    }
    return f"""
WITH constants (provider, status) AS (VALUES (%s::text, %s::text)),
posted (ord, instance_name, by_api_key, credential_sha256, event, payload, dedupe_key, received_at, provider_time) AS (
    VALUES {", ".join([_POSTED_ROW] * rows)}
), callers AS (
    SELECT posted.*, i.instance_id, i.organization_id, i.webhook_secret, i.api_key
    FROM posted LEFT JOIN LATERAL (
        -- Names are unique per provider server, not across them: the one the credential is of.
        SELECT c.{instance_column["id"]} AS instance_id, c.{instance_column["organization"]} AS organization_id,
               c.{instance_column["webhook_secret"]} AS webhook_secret, c.{instance_column["api_key"]} AS api_key
        FROM {quote(instance_meta.db_table)} c
        WHERE c.{instance_column["instance_name"]} = posted.instance_name
        ORDER BY sha256(convert_to(CASE WHEN posted.by_api_key THEN NULLIF(c.{instance_column["api_key"]}, '')
                 ELSE c.{instance_column["webhook_secret"]} END, 'UTF8')) = posted.credential_sha256 DESC NULLS LAST,
                 c.{instance_column["id"]}
        LIMIT 1
    ) i ON true
), stored AS (
    INSERT INTO {quote(event_meta.db_table)} ({", ".join(event_column.values())})
    SELECT organization_id, constants.provider, instance_id, event, payload::jsonb, dedupe_key, received_at,
           provider_time, constants.status, '', 0, ''
    FROM callers, constants
    WHERE sha256(convert_to(CASE WHEN by_api_key THEN NULLIF(api_key, '') ELSE webhook_secret END, 'UTF8'))
          = credential_sha256
    ORDER BY ord
    ON CONFLICT DO NOTHING
    RETURNING {quote(event_meta.pk.column)} AS id, {event_column["instance"]} AS instance_id,
              {event_column["dedupe_key"]} AS dedupe_key
)
SELECT callers.ord, callers.instance_id, callers.organization_id, callers.webhook_secret, callers.api_key, stored.id
FROM callers LEFT JOIN stored
    ON stored.instance_id = callers.instance_id AND stored.dedupe_key = callers.dedupe_key
ORDER BY callers.ord
"""
