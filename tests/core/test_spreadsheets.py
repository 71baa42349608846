"""Cells a spreadsheet would run as a formula are neutralized (issue 12, finding 11)."""

import csv
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Recipient
from core.spreadsheets import safe_cell
from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from tests.factories.contacts import ContactFactory

ATTACKS = ["=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0"]


@pytest.mark.parametrize("value", [*ATTACKS, "\t=1+1", "\r=1+1", "=1", "-", "+"])
def test_a_leading_formula_character_is_escaped(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["+5511987654321", "-5", "-1.5", "Maria", "", "a=b", 12, None, "12@x.com"])
def test_plain_values_and_numbers_are_left_alone(value):
    assert safe_cell(value) == value


@pytest.mark.django_db
def test_the_import_report_escapes_what_it_echoes(tmp_path, org_a):
    path = tmp_path / "contacts.csv"
    path.write_text('phone,name\n=HYPERLINK("http://evil"),' + ATTACKS[0] + "\n+5511999999999,Ana\n")
    report = tmp_path / "report.csv"

    call_command(
        "import_contacts", str(path), "--org", "alice", "--report", str(report), "--no-progress", stdout=io.StringIO()
    )

    rows = list(csv.reader(report.open(newline="", encoding="utf-8")))
    assert rows[1][3] == '\'=HYPERLINK("http://evil")'
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


@pytest.mark.django_db
def test_the_execution_report_escapes_recipient_values(alice_client, org_a):
    campaign = CampaignFactory(organization=org_a)
    execution = ExecutionFactory(organization=org_a, campaign=campaign)
    contact = ContactFactory(organization=org_a, phone="+5511987654321")
    Recipient.objects.create(
        execution=execution,
        contact=contact,
        phone=contact.phone,
        status=Recipient.Status.FAILED,
        error=ATTACKS[0],
        provider_message_id="@SUM(1)",
        failed_at=timezone.now(),
    )

    response = alice_client.get(f"/api/v1/executions/{execution.id}/report.csv")

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["error"] == "'" + ATTACKS[0]
    assert row["provider_message_id"] == "'@SUM(1)"
    assert row["phone"] == "+5511987654321"
