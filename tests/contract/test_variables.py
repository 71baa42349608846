"""The old Flow Automation API's variables, as its clients use them: the import → campaign path.

`POST /contacts` with the CSV's columns at the top level, then a mapping that names them
(`{{contact.company}}`), then a start. These tests must also run on SQLite with query
logging on, as `make run` configures it (DEBUG=1 logs every query through `sql % params`).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.models import Recipient
from contacts.models import Contact

pytestmark = pytest.mark.django_db

API = "/api/v1"
# What the flow of `contract_rows` says: "Olá {{customer_name}}, seu desconto é {{discount}}".
FLOW_VARIABLES = {"customer_name": "{{contact.name}}", "discount": "10%"}


def automation_body(contact_ids: list[int], mapping: dict) -> dict:
    return {
        "name": "Disparo Black Friday",
        "chatbot_id": 1,
        "flow_id": 2,
        "whatsapp_number_id": 3,
        "trigger_type": "manual",
        "trigger_config": {},
        "audience_type": "custom",
        "audience_config": {"contact_ids": contact_ids},
        "variable_mapping": mapping,
    }


def test_1_contact_times_resolve_with_every_query_logged(alice_client, contract_rows):
    mapping = {"timestamp": "{{contact.created_at}}", "seen": "{{contact.last_interaction_at}}", **FLOW_VARIABLES}
    body = automation_body([10, 11], mapping)
    automation = alice_client.post(f"{API}/flow-automations", body, format="json").json()

    with CaptureQueriesContext(connection):  # what DEBUG=1 does to every query
        started = alice_client.post(f"{API}/flow-automations/{automation['id']}/start")

    assert started.status_code == 202, started.json()
    ana = Recipient.objects.get(execution_id=started.json()["id"], contact_id=10)
    assert ana.variables["timestamp"].endswith("+00:00") and ana.variables["seen"] == ""


def test_6_imported_columns_become_custom_fields_a_mapping_reads(alice_client, contract_rows):
    rows = [
        {"whatsapp_id": "5511977770001", "name": "Caio", "email": "c@x.com", "company": "ACME", "city": "Recife"},
        {"whatsapp_id": "5511977770002", "name": "Duda", "email": "d@x.com"},
    ]
    ids = [alice_client.post(f"{API}/contacts", row, format="json").json()["id"] for row in rows]
    assert Contact.objects.get(id=ids[0]).custom_fields == {"company": "ACME", "city": "Recife"}

    mapping = {"company": "{{contact.company}}", "region": "{{contact.region}}", **FLOW_VARIABLES}
    created = alice_client.post(f"{API}/flow-automations", automation_body(ids, mapping), format="json")
    assert created.status_code == 201, created.json()
    started = alice_client.post(f"{API}/flow-automations/{created.json()['id']}/start")

    assert started.status_code == 202, started.json()
    by_contact = {r.contact_id: r.variables for r in Recipient.objects.filter(execution_id=started.json()["id"])}
    company = {contact_id: (v["company"], v["region"]) for contact_id, v in by_contact.items()}
    assert company == {ids[0]: ("ACME", ""), ids[1]: ("", "")}
    report = {entry["field"]: entry["missing"] for entry in started.json()["errors"]}
    assert report == {"contact.company": 1, "contact.region": 2}


def test_15_a_placeholder_nothing_fills_is_refused_at_start_naming_the_message(alice_client, contract_rows):
    message = contract_rows["subflow"].messages.get()
    message.text = "Oi {{contact.name}}, seu cupom {{cupom}} vence {{vencimento}}"
    message.save()
    created = alice_client.post(f"{API}/flow-automations", automation_body([10, 11], {}), format="json")
    assert created.status_code == 201, created.json()

    started = alice_client.post(f"{API}/flow-automations/{created.json()['id']}/start")

    assert started.status_code == 400
    problems = started.json()["flow"]
    assert len(problems) == 2
    assert f"Flow message {message.id} uses {{{{cupom}}}}" in problems[0]
    assert f"Flow message {message.id} uses {{{{vencimento}}}}" in problems[1]
    assert not Recipient.objects.exists()


def test_15_contact_fields_need_no_mapping_to_start(alice_client, contract_rows):
    message = contract_rows["subflow"].messages.get()
    message.text = "Oi {{contact.name}} da {{contact.company}}"
    message.save()
    created = alice_client.post(f"{API}/flow-automations", automation_body([10, 11], {}), format="json")

    started = alice_client.post(f"{API}/flow-automations/{created.json()['id']}/start")

    assert started.status_code == 202, started.json()
