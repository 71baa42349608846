"""Contact import: CSV text or a list of numbers in, contacts upserted by phone.

`import_contacts` serves `manage.py import_contacts`, the bulk API and the admin upload.
The input is read as a stream, in chunks: each chunk is validated and deduplicated
here, then written in one round trip by `contacts.upserts` (COPY + one merge on
PostgreSQL, batched upserts elsewhere). Parsing runs in a thread one chunk ahead of
the database, so Python and PostgreSQL work at the same time.

Rules, the same on every path: rows apply in file order; a non-empty value overwrites,
an empty one keeps what the contact had; custom fields merge key by key (so for a phone
repeated in a file, the last non-empty value of each field wins); an import never
touches a contact's opt-out or `is_active`.
"""

import codecs
import contextlib
import csv
import io
import itertools
import operator
import queue
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from contacts.phones import InvalidPhone, normalize_br_fast, normalize_with_library

# Header names (lower-cased) that map to the contact's own fields; others are custom fields.
FIELD_ALIASES = {
    "phone": {"phone", "telefone", "celular", "whatsapp", "numero", "número", "fone", "mobile", "phone_number"},
    "name": {"name", "nome"},
    "email": {"email", "e-mail"},
}
NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ContactImportError(Exception):
    """The input as a whole cannot be imported (no phone column, duplicate columns…)."""


@dataclass
class RowError:
    row: int
    column: str
    reason: str
    value: str = ""


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    invalid: int = 0
    duplicates: int = 0
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)
    ids: list[int | None] | None = None


@dataclass
class Layout:
    """Where each field sits in a row; custom fields keep their header text as key."""

    phone: int
    phone_column: str
    width: int
    name: int | None = None
    email: int | None = None
    custom: list[tuple[int, str]] = field(default_factory=list)

    @property
    def custom_keys(self) -> list[str]:
        return [key for _, key in self.custom]


@dataclass
class Chunk:
    records: list[list[str]]  # one per phone: [phone, name, email, *custom values]
    row_phones: list[str | None]  # one per data row, None when invalid
    errors: list[RowError]
    duplicates: int


def _decode_as_cp1252(error):
    """UTF-8 is tried first; bytes that are not UTF-8 are read as cp1252 (Latin-1 files)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    try:
        return chunk.decode("cp1252"), error.end
    except UnicodeDecodeError:
        return chunk.decode("latin-1"), error.end


codecs.register_error("contacts_cp1252", _decode_as_cp1252)


def open_text(binary) -> io.TextIOWrapper:
    """A text stream over a binary file: UTF-8 (BOM or not), falling back to cp1252."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="contacts_cp1252", newline="")


def read_layout(header: list[str]) -> Layout:
    seen: set[str] = set()
    indexes: dict[str, int] = {}
    custom = []
    phone_column = ""
    for index, text in enumerate(header):
        key = text.strip()
        if not key:
            continue
        lowered = key.lower()
        if lowered in seen:
            raise ContactImportError(_('Column "%(column)s" appears twice in the header.') % {"column": key})
        seen.add(lowered)
        target = next((name for name, aliases in FIELD_ALIASES.items() if lowered in aliases), None)
        if target is None:
            custom.append((index, key))
        elif target in indexes:
            raise ContactImportError(_('Columns for "%(field)s" appear twice in the header.') % {"field": target})
        else:
            indexes[target] = index
            if target == "phone":
                phone_column = key
    if "phone" not in indexes:
        raise ContactImportError(
            _("The header has no phone column (phone, telefone or celular); it has: %(columns)s")
            % {"columns": ", ".join(h.strip() for h in header) or "-"}
        )
    return Layout(
        phone=indexes["phone"],
        phone_column=phone_column,
        width=len(header),
        name=indexes.get("name"),
        email=indexes.get("email"),
        custom=custom,
    )


def _detect_delimiter(line: str) -> str:
    counts = {delimiter: line.count(delimiter) for delimiter in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _slow_normalizer(region: str) -> Callable[[str], str]:
    """The library's answer, for the values the Brazilian fast path leaves to it."""

    def normalize(value: str) -> str:
        if not value.strip():
            raise InvalidPhone(value)
        return normalize_with_library(value, region)

    return normalize


def parse_chunks(
    records: Iterator[list[str]], layout: Layout, *, first_row: int, chunk_size: int, region: str
) -> Iterator[Chunk]:
    """Validated, deduplicated chunks of `chunk_size` data rows; row numbers count from `first_row`.

    This loop is the import's Python hot spot (a million iterations per million-row
    file): the checks that almost always pass are inlined, the helpers run only for
    the rows that fail them.
    """
    fast = normalize_br_fast if region == "BR" else None
    slow = _slow_normalizer(region)
    phone_index, name_index, email_index, width = layout.phone, layout.name, layout.email, layout.width
    custom_indexes = [index for index, _ in layout.custom]
    email_match = _EMAIL.fullmatch
    row_number = first_row - 1
    while True:
        out: list[list[str]] = []
        positions: dict[str, int] = {}
        row_phones: list[str | None] = []
        errors: list[RowError] = []
        duplicates = 0
        chunk_start = row_number
        for record in itertools.islice(records, chunk_size):
            row_number += 1
            if record.__class__ is RowError:
                record.row = row_number
                errors.append(record)
                row_phones.append(None)
                continue
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # a blank line is not a row (in CSV and in a list of numbers alike)
            if len(record) != width:
                if len(record) > width:
                    reason = _("%(count)d columns, the header has %(width)d.") % {"count": len(record), "width": width}
                    errors.append(RowError(row_number, "", reason))
                    row_phones.append(None)
                    continue
                record = record + [""] * (width - len(record))
            raw_phone = record[phone_index]
            phone = fast(raw_phone) if fast is not None else None
            if phone is None:
                try:
                    phone = slow(raw_phone)
                except InvalidPhone as exc:
                    errors.append(RowError(row_number, layout.phone_column, str(exc), raw_phone))
                    row_phones.append(None)
                    continue
            name = record[name_index].strip() if name_index is not None else ""
            email = record[email_index].strip() if email_index is not None else ""
            if len(name) > NAME_MAX_LENGTH or (email and (len(email) > EMAIL_MAX_LENGTH or not email_match(email))):
                errors.append(_field_error(row_number, name, email))
                row_phones.append(None)
                continue
            row_phones.append(phone)
            values = [phone, name, email]
            if custom_indexes:
                values += [record[index].strip() for index in custom_indexes]
            position = positions.get(phone)
            if position is None:
                positions[phone] = len(out)
                out.append(values)
            else:
                duplicates += 1
                earlier = out[position]
                for index in range(1, len(values)):
                    if values[index]:
                        earlier[index] = values[index]
        if row_number == chunk_start:
            return
        yield Chunk(records=out, row_phones=row_phones, errors=errors, duplicates=duplicates)


def _field_error(row_number: int, name: str, email: str) -> RowError:
    if len(name) > NAME_MAX_LENGTH:
        reason = _("Longer than %(max)d characters.") % {"max": NAME_MAX_LENGTH}
        return RowError(row_number, "name", reason, name[:50])
    return RowError(row_number, "email", _("Not a valid email address."), email)


# PostgreSQL text cannot hold NUL: a stray one is dropped before it can fail a whole chunk.
_drop_nul = operator.methodcaller("replace", "\x00", "")


def _csv_records(lines: Iterable[str], delimiter: str) -> Iterator[list[str] | RowError]:
    """csv.reader, with a malformed row turned into a RowError instead of ending the import."""
    reader = csv.reader(map(_drop_nul, lines), delimiter=delimiter)
    while True:
        try:
            yield from reader
            return
        except csv.Error as exc:
            yield RowError(0, "", _("Malformed CSV: %(error)s") % {"error": exc})


def _number_records(lines: Iterable[str]) -> Iterator[list[str]]:
    for line in map(_drop_nul, lines):
        yield [line.strip()]


def _run_ahead(iterator: Iterator, depth: int = 2) -> Iterator:
    """Iterate `iterator` in a thread, `depth` items ahead of the caller."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()
    language = translation.get_language()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            with translation.override(language):
                for item in iterator:
                    if not put(item):
                        return
            put(end)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put(exc)

    thread = threading.Thread(target=produce, name="contacts-import-parse", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def import_contacts(
    *,
    organization,
    lines: Iterable[str],
    numbers_only: bool = False,
    delimiter: str | None = None,
    tag_names: Iterable[str] = (),
    dry_run: bool = False,
    collect_ids: bool = False,
    on_error: Callable[[RowError], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    region: str | None = None,
    chunk_size: int | None = None,
    use_copy: bool | None = None,
) -> ImportResult:
    """Upsert contacts of `organization` from `lines` (CSV with a header, or one number a line).

    Row errors go to `on_error` as they are found, or into `result.errors` without one.
    Each chunk commits on its own, so a failure keeps the chunks before it; `dry_run`
    runs everything inside one transaction and rolls it back, so its counts are exact.
    Raises ContactImportError when the input cannot be imported at all.
    """
    from django.conf import settings

    from contacts import upserts
    from contacts.tags import tags_for_names

    region = region or settings.PHONE_DEFAULT_REGION
    if use_copy is None:
        use_copy = connection.vendor == "postgresql"
    chunk_size = chunk_size or (upserts.COPY_CHUNK_SIZE if use_copy else upserts.BATCH_CHUNK_SIZE)
    lines = iter(lines)
    first_row = 1
    if numbers_only:
        layout = Layout(phone=0, phone_column="phone", width=1)
        records: Iterator = _number_records(lines)
    else:
        header_line = next(lines, "")
        if delimiter is None:
            delimiter = _detect_delimiter(header_line)
        records = _csv_records(itertools.chain([header_line], lines), delimiter)
        header = next(records, None)
        if header is None or isinstance(header, RowError) or not any(cell.strip() for cell in header):
            raise ContactImportError(_("The file is empty or has no header row."))
        layout = read_layout(header)
        first_row = 2

    result = ImportResult(dry_run=dry_run, ids=[] if collect_ids else None)
    report = on_error or result.errors.append
    with transaction.atomic() if dry_run else contextlib.nullcontext():
        tags = tags_for_names(organization=organization, names=tag_names)
        writer_class = upserts.CopyWriter if use_copy else upserts.BatchWriter
        with writer_class(organization=organization, custom_keys=layout.custom_keys, tags=tags) as writer:
            chunks = parse_chunks(records, layout, first_row=first_row, chunk_size=chunk_size, region=region)
            for chunk in _run_ahead(chunks):
                created, ids_by_phone = writer.write(chunk.records, collect_ids=collect_ids)
                valid = len(chunk.row_phones) - len(chunk.errors)
                result.rows += len(chunk.row_phones)
                result.created += created
                result.updated += valid - created
                result.invalid += len(chunk.errors)
                result.duplicates += chunk.duplicates
                for error in chunk.errors:
                    report(error)
                if collect_ids:
                    result.ids.extend(ids_by_phone.get(phone) if phone else None for phone in chunk.row_phones)
                if on_progress is not None:
                    on_progress(result.rows)
        if dry_run:
            transaction.set_rollback(True)
    return result
