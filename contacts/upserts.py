"""The two ways a chunk of import records reaches the database.

Records come from `contacts.imports.parse_chunks`, already validated and with one
record per phone: `[phone, name, email, *custom values]`. Both writers apply the same
rules (see `contacts.imports`) and return how many contacts they created and, when
asked, {phone: id}.
"""

from django.db import connection, transaction
from django.utils import timezone

from contacts.models import Contact, Tag

COPY_CHUNK_SIZE = 25_000
BATCH_CHUNK_SIZE = 1_000
# jsonb_build_object takes at most 100 arguments: 50 key/value pairs per call.
_JSON_PAIRS_PER_CALL = 50
_STAGE = "contacts_import_stage"


class CopyWriter:
    """PostgreSQL: COPY the chunk into a temporary table, then one INSERT … ON CONFLICT merge."""

    def __init__(self, *, organization, custom_keys: list[str], tags: list[Tag]):
        self.organization_id = organization.id
        self.custom_keys = custom_keys
        self.tag_ids = [tag.id for tag in tags]
        self.columns = ["phone", "name", "email"] + [f"c{i}" for i in range(len(custom_keys))]
        self.column_types = ["text"] * len(self.columns)

    def __enter__(self):
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
            cursor.execute(f"CREATE TEMPORARY TABLE {_STAGE} ({', '.join(f'{c} text' for c in self.columns)})")
        return self

    def __exit__(self, *exc):
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {_STAGE}")
        return False

    def _custom_fields_sql(self) -> tuple[str, list[str]]:
        if not self.custom_keys:
            return "'{}'::jsonb", []
        calls, params = [], []
        for start in range(0, len(self.custom_keys), _JSON_PAIRS_PER_CALL):
            pairs = []
            for offset, key in enumerate(self.custom_keys[start : start + _JSON_PAIRS_PER_CALL]):
                pairs.append(f"%s::text, NULLIF(s.c{start + offset}, '')")
                params.append(key)
            calls.append(f"jsonb_build_object({', '.join(pairs)})")
        return f"jsonb_strip_nulls({' || '.join(calls)})", params

    def write(self, records: list[list[str]], *, collect_ids: bool = False) -> tuple[int, dict[str, int]]:
        if not records:
            return 0, {}
        custom_sql, custom_params = self._custom_fields_sql()
        now = timezone.now()
        contacts = Contact._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {_STAGE}")
            # Binary COPY with psycopg's C row writer: no CSV to build here or to parse there.
            with cursor.copy(f"COPY {_STAGE} FROM STDIN (FORMAT binary)") as copy:
                copy.set_types(self.column_types)
                write_row = copy.write_row
                for record in records:
                    write_row(record)
            cursor.execute(
                f"""
                WITH upserted AS (
                    INSERT INTO {contacts} AS c (organization_id, phone, name, email, custom_fields, is_active,
                        opt_out_reason, opt_out_source, total_messages_received, created_at, updated_at)
                    SELECT %s, s.phone, COALESCE(s.name, ''), COALESCE(s.email, ''), {custom_sql},
                        TRUE, '', '', 0, %s, %s
                    FROM {_STAGE} s
                    ON CONFLICT ON CONSTRAINT contacts_contact_unique_phone DO UPDATE SET
                        name = COALESCE(NULLIF(EXCLUDED.name, ''), c.name),
                        email = COALESCE(NULLIF(EXCLUDED.email, ''), c.email),
                        custom_fields = c.custom_fields || EXCLUDED.custom_fields,
                        updated_at = EXCLUDED.updated_at
                    -- Skipping unchanged rows keeps a re-import from rewriting (and bloating) the table.
                    WHERE (EXCLUDED.name <> '' AND EXCLUDED.name <> c.name)
                       OR (EXCLUDED.email <> '' AND EXCLUDED.email <> c.email)
                       OR NOT c.custom_fields @> EXCLUDED.custom_fields
                    RETURNING xmax = 0 AS created
                )
                SELECT count(*) FILTER (WHERE created) FROM upserted
                """,
                [self.organization_id, *custom_params, now, now],
            )
            created = cursor.fetchone()[0]
            if self.tag_ids:
                through = Contact.tags.through._meta.db_table
                cursor.execute(
                    f"""
                    INSERT INTO {through} (contact_id, tag_id)
                    SELECT c.id, t.id FROM {_STAGE} s
                    JOIN {contacts} c ON c.organization_id = %s AND c.phone = s.phone
                    CROSS JOIN unnest(%s::bigint[]) AS t(id)
                    ON CONFLICT DO NOTHING
                    """,
                    [self.organization_id, self.tag_ids],
                )
            ids = {}
            if collect_ids:
                cursor.execute(
                    f"SELECT c.phone, c.id FROM {_STAGE} s"
                    f" JOIN {contacts} c ON c.organization_id = %s AND c.phone = s.phone",
                    [self.organization_id],
                )
                ids = dict(cursor.fetchall())
        return created, ids


class BatchWriter:
    """Any database (SQLite in the embedded mode): one SELECT, then bulk_create and bulk_update."""

    def __init__(self, *, organization, custom_keys: list[str], tags: list[Tag]):
        self.organization = organization
        self.custom_keys = custom_keys
        self.tags = tags

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, records: list[list[str]], *, collect_ids: bool = False) -> tuple[int, dict[str, int]]:
        if not records:
            return 0, {}
        now = timezone.now()
        with transaction.atomic():
            existing = {
                contact.phone: contact
                for contact in Contact.objects.filter(
                    organization=self.organization, phone__in=[record[0] for record in records]
                ).only("id", "phone", "name", "email", "custom_fields")
            }
            new, changed = [], []
            for phone, name, email, *custom in records:
                fields = {key: value for key, value in zip(self.custom_keys, custom, strict=True) if value}
                contact = existing.get(phone)
                if contact is None:
                    new.append(
                        Contact(
                            organization=self.organization, phone=phone, name=name, email=email, custom_fields=fields
                        )
                    )
                elif _merge(contact, name=name, email=email, custom_fields=fields):
                    contact.updated_at = now
                    changed.append(contact)
            Contact.objects.bulk_create(new)
            Contact.objects.bulk_update(changed, ["name", "email", "custom_fields", "updated_at"])
            contacts = [*existing.values(), *new]
            if self.tags:
                through = Contact.tags.through
                links = [through(contact_id=c.id, tag_id=tag.id) for c in contacts for tag in self.tags]
                through.objects.bulk_create(links, ignore_conflicts=True)
        ids = {contact.phone: contact.id for contact in contacts} if collect_ids else {}
        return len(new), ids


def _merge(contact: Contact, *, name: str, email: str, custom_fields: dict) -> bool:
    """Apply non-empty values to `contact`; True if anything changed."""
    changed = False
    if name and name != contact.name:
        contact.name = name
        changed = True
    if email and email != contact.email:
        contact.email = email
        changed = True
    if custom_fields and any(contact.custom_fields.get(k) != v for k, v in custom_fields.items()):
        contact.custom_fields = {**contact.custom_fields, **custom_fields}
        changed = True
    return changed
