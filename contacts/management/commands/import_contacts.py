import csv
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import Organization
from contacts.imports import ContactImportError, import_contacts, open_text
from contacts.services import REPORT_HEADER, report_row


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV file (header: phone,name,email,…; other columns become custom "
        "fields), upserting by phone. UTF-8 (with or without BOM) and Latin-1/cp1252 are read. "
        "Bad rows go to the report file with their row number, column and reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--org", required=True, help="Organization slug, e.g. loja-exemplo")
        parser.add_argument("--tag", action="append", default=[], help="Tag every imported contact (repeatable)")
        parser.add_argument("--delimiter", help="Column separator; detected from the header when omitted")
        parser.add_argument("--dry-run", action="store_true", help="Validate and count, then roll everything back")
        parser.add_argument("--report", help="Where to write bad rows (default: FILE.errors.csv)")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar on stderr")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            organization = Organization.objects.get(slug=options["org"])
        except Organization.DoesNotExist:
            raise CommandError(f"No organization with slug '{options['org']}'.") from None
        delimiter = options["delimiter"]
        if delimiter in ("\\t", "tab"):
            delimiter = "\t"
        if delimiter is not None and len(delimiter) != 1:
            raise CommandError("--delimiter must be one character, e.g. ; or tab")
        report_path = options["report"] or f"{path}.errors.csv"
        try:
            binary = open(path, "rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from None
        size = os.fstat(binary.fileno()).st_size
        progress = tqdm(
            total=size, unit="B", unit_scale=True, file=sys.stderr, disable=options["no_progress"], desc="import"
        )
        with binary, open(report_path, "w", newline="", encoding="utf-8") as report, progress:
            writer = csv.writer(report)
            writer.writerow(REPORT_HEADER)
            try:
                result = import_contacts(
                    organization=organization,
                    lines=open_text(binary),
                    delimiter=delimiter,
                    tag_names=options["tag"],
                    dry_run=options["dry_run"],
                    on_error=lambda error: writer.writerow(report_row(error)),
                    on_progress=lambda rows: progress.update(binary.tell() - progress.n),
                )
            except (ContactImportError, ValidationError) as exc:
                raise CommandError(f"{path}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}") from None
            progress.update(size - progress.n)
        if not result.invalid:
            os.unlink(report_path)
        prefix = "Dry run, nothing saved: " if result.dry_run else ""
        self.stdout.write(
            f"{prefix}{result.rows} rows: {result.created} created, {result.updated} updated, "
            f"{result.invalid} invalid ({result.duplicates} repeated a phone seen earlier in the file)."
        )
        if result.invalid:
            self.stdout.write(f"Bad rows, with their reasons: {report_path}")
