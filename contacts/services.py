"""Writes to contacts. Every other app and every interface (API, admin, commands, tasks) calls these."""

import csv
import logging
import os
import tempfile
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.imports import ContactImportError, ImportResult, RowError, import_contacts, open_text
from contacts.models import Contact, ContactImport
from contacts.phones import InvalidPhone, normalize_phone
from contacts.tags import tags_for_names
from core.spreadsheets import safe_row

logger = logging.getLogger(__name__)


def _clean_phone(phone: str) -> str:
    try:
        return normalize_phone(phone)
    except InvalidPhone as exc:
        raise ValidationError({"phone": str(exc)}) from None


@transaction.atomic
def contact_get_or_create(
    *,
    organization,
    phone: str,
    name: str = "",
    email: str = "",
    custom_fields: dict | None = None,
    tags: Iterable[str] = (),
    is_active: bool | None = None,
) -> tuple[Contact, bool]:
    """Create-or-get by phone: an existing contact gets the non-empty values given, tags added."""
    phone = _clean_phone(phone)
    custom_fields = {key: value for key, value in (custom_fields or {}).items() if value not in ("", None)}
    contact = Contact.objects.select_for_update().filter(organization=organization, phone=phone).first()
    created = contact is None
    if created:
        contact = Contact(organization=organization, phone=phone, name=name, email=email, custom_fields=custom_fields)
        if is_active is not None:
            contact.is_active = is_active
        contact.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                contact.save()
        except IntegrityError:
            # A concurrent request created it first: update that one instead.
            contact = Contact.objects.select_for_update().get(organization=organization, phone=phone)
            created = False
    if not created:
        changed = []
        for field_name, value in (("name", name), ("email", email), ("is_active", is_active)):
            if value not in ("", None) and getattr(contact, field_name) != value:
                setattr(contact, field_name, value)
                changed.append(field_name)
        if any(contact.custom_fields.get(key) != value for key, value in custom_fields.items()):
            contact.custom_fields = {**contact.custom_fields, **custom_fields}
            changed.append("custom_fields")
        if changed:
            contact.full_clean(validate_unique=False, validate_constraints=False)
            contact.save(update_fields=[*changed, "updated_at"])
    if tags:
        contact.tags.add(*tags_for_names(organization=organization, names=tags))
    return contact, created


@transaction.atomic
def contact_update(*, contact: Contact, tags: Iterable[str] | None = None, **fields) -> Contact:
    """Set the given fields (phone is normalized); `tags`, when given, replace the contact's tags."""
    if "phone" in fields:
        fields["phone"] = _clean_phone(fields["phone"])
        taken = Contact.objects.filter(organization_id=contact.organization_id, phone=fields["phone"])
        if taken.exclude(id=contact.id).exists():
            raise ValidationError({"phone": _("Another contact already has this phone.")})
    for field_name, value in fields.items():
        setattr(contact, field_name, value)
    contact.full_clean(validate_unique=False, validate_constraints=False)
    contact.save(update_fields=[*fields, "updated_at"])
    if tags is not None:
        contact.tags.set(tags_for_names(organization=contact.organization, names=tags))
    return contact


def contact_deactivate(*, contact: Contact) -> None:
    """The soft delete: the contact stays (with its opt-out and history) but is never messaged."""
    Contact.objects.filter(id=contact.id, is_active=True).update(is_active=False, updated_at=timezone.now())


def contact_delete(*, contact: Contact) -> None:
    """The hard delete, for erasure requests (LGPD): the row and its tag links go."""
    contact.delete()


def contacts_opt_out(*, contacts: QuerySet[Contact], reason: str = "", source: str = "") -> int:
    """Opt out every contact of `contacts` not already out (the first opt-out wins)."""
    return contacts.filter(opted_out_at__isnull=True).update(
        opted_out_at=timezone.now(), opt_out_reason=reason, opt_out_source=source, updated_at=timezone.now()
    )


def contacts_opt_in(*, contacts: QuerySet[Contact]) -> int:
    return contacts.filter(opted_out_at__isnull=False).update(
        opted_out_at=None, opt_out_reason="", opt_out_source="", updated_at=timezone.now()
    )


def contacts_deactivate(*, contacts: QuerySet[Contact]) -> int:
    return contacts.filter(is_active=True).update(is_active=False, updated_at=timezone.now())


def contacts_import_text(
    *, organization, text: str, numbers_only: bool, tag_names: Iterable[str] = (), delimiter: str | None = None
) -> ImportResult:
    """The bulk API: text in, ids in input order and per-row errors out."""
    return import_contacts(
        organization=organization,
        lines=text.splitlines(keepends=True),
        numbers_only=numbers_only,
        delimiter=delimiter,
        tag_names=tag_names,
        collect_ids=True,
    )


REPORT_HEADER = ["row", "column", "reason", "value"]


def report_row(error: RowError) -> list:
    """A row of the error report; the echoed value may be a formula, so it is neutralized."""
    return safe_row([error.row, error.column, error.reason, error.value])


@transaction.atomic
def contact_import_create(*, organization, file, created_by=None, tag: str = "", delimiter: str = "") -> ContactImport:
    """Store an uploaded CSV and queue its import once the upload is committed."""
    contact_import = ContactImport(
        organization=organization, file=file, created_by=created_by, tag=tag.strip(), delimiter=delimiter
    )
    contact_import.full_clean()
    contact_import.save()
    contact_import_enqueue(contact_import=contact_import)
    return contact_import


def contact_import_enqueue(*, contact_import: ContactImport) -> None:
    from contacts.tasks import run_contact_import_task

    run_contact_import_task.delay_on_commit(contact_import.id)


def contact_import_run(*, contact_import_id: int) -> ContactImport | None:
    """Run a PENDING upload: PENDING -> RUNNING -> DONE | FAILED. None if someone else took it."""
    started = ContactImport.objects.filter(id=contact_import_id, status=ContactImport.Status.PENDING).update(
        status=ContactImport.Status.RUNNING, started_at=timezone.now()
    )
    if started != 1:
        return None
    contact_import = ContactImport.objects.select_related("organization").get(id=contact_import_id)
    with tempfile.TemporaryDirectory() as directory:
        report_path = os.path.join(directory, "report.csv")
        try:
            result = _import_upload(contact_import, report_path)
        except (ContactImportError, ValidationError, OSError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            _mark_failed(contact_import, message)
            return contact_import
        except Exception:
            _mark_failed(contact_import, _("Unexpected error; see the worker log."))
            raise
        contact_import.total_rows = result.rows
        contact_import.created_count = result.created
        contact_import.updated_count = result.updated
        contact_import.invalid_count = result.invalid
        contact_import.status = ContactImport.Status.DONE
        contact_import.finished_at = timezone.now()
        fields = ["total_rows", "created_count", "updated_count", "invalid_count", "status", "finished_at"]
        if result.invalid:
            name = contact_import.file.name.rsplit("/", 1)[-1].rsplit(".", 1)[0] + "-errors.csv"
            with open(report_path, "rb") as report:
                contact_import.report.save(name, File(report), save=False)
            fields.append("report")
        contact_import.save(update_fields=fields)
    return contact_import


def _import_upload(contact_import: ContactImport, report_path: str) -> ImportResult:
    with open(report_path, "w", newline="", encoding="utf-8") as report:
        writer = csv.writer(report)
        writer.writerow(REPORT_HEADER)
        with contact_import.file.open("rb") as binary:
            return import_contacts(
                organization=contact_import.organization,
                lines=open_text(binary),
                delimiter=contact_import.delimiter or None,
                tag_names=[contact_import.tag] if contact_import.tag else [],
                on_error=lambda error: writer.writerow(report_row(error)),
            )


def _mark_failed(contact_import: ContactImport, message: str) -> None:
    contact_import.status = ContactImport.Status.FAILED
    contact_import.error = message
    contact_import.finished_at = timezone.now()
    contact_import.save(update_fields=["status", "error", "finished_at"])
