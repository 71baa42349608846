"""The flow-automations API: the documented request, field errors, start, lists, stats, report."""

import csv
import io
from datetime import UTC

import pytest
import time_machine

from campaigns.models import Campaign, Execution, Recipient
from contacts.models import Tag
from flows.models import FlowMessage
from tests.factories.campaigns import CampaignFactory, make_flow
from tests.factories.contacts import ContactFactory
from tests.support.automations import URL, example


def test_it_creates_the_documented_example(alice_client, setup, org_a):
    flow, instance, contacts = setup
    response = alice_client.post(URL, example(flow, instance, contacts), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["whatsapp_number_id"] == instance.id
    campaign = Campaign.objects.get(id=body["id"])
    assert campaign.organization == org_a and campaign.flow == flow and campaign.rate_limit_per_hour == 500
    assert list(campaign.instances.all()) == [instance]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"flow_id": "999999"}, "flow_id"),
        ({"chatbot_id": "999999"}, "chatbot_id"),
        ({"rate_limit_per_hour": -1}, "rate_limit_per_hour"),
        ({"variable_mapping": {"customer_name": "{{contato.name}}"}}, "variable_mapping"),
        ({"variable_mapping": {"customer_name": "{{contact.name"}}, "variable_mapping"),
        ({"audience_type": "segment", "audience_config": {"segment": {"field": "x", "op": "eq"}}}, "audience_config"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(alice_client, setup, change, field):
    response = alice_client.post(URL, {**example(*setup), **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Campaign.objects.exists()


def test_a_flow_of_another_chatbot_is_refused(alice_client, setup, org_a):
    flow, instance, contacts = setup
    other = make_flow(org_a)
    response = alice_client.post(URL, {**example(flow, instance, contacts), "flow_id": other.id}, format="json")

    assert response.status_code == 400
    assert "flow_id" in response.json()


def test_contacts_of_another_organization_are_refused(alice_client, setup, org_b):
    flow, instance, contacts = setup
    foreign = ContactFactory(organization=org_b)
    body = {**example(flow, instance, contacts), "audience_config": {"contact_ids": [contacts[0].id, foreign.id]}}
    response = alice_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert str(foreign.id) in str(response.json()["audience_config"])


def test_viewers_cannot_create(vera_client, setup):
    assert vera_client.post(URL, example(*setup), format="json").status_code == 403


def test_update_only_in_draft_or_paused(alice_client, org_a):
    campaign = CampaignFactory(organization=org_a)
    assert alice_client.patch(f"{URL}/{campaign.id}", {"name": "Novo"}, format="json").status_code == 200
    Campaign.objects.filter(id=campaign.id).update(status="active")

    response = alice_client.patch(f"{URL}/{campaign.id}", {"name": "Outro"}, format="json")

    assert response.status_code == 400 and "status" in response.json()
    campaign.refresh_from_db()
    assert campaign.name == "Novo"


def test_delete_is_soft(alice_client, org_a):
    campaign = CampaignFactory(organization=org_a)
    assert alice_client.delete(f"{URL}/{campaign.id}").status_code == 204
    campaign.refresh_from_db()
    assert campaign.deleted_at is not None and campaign.status == "archived"
    assert alice_client.get(f"{URL}/{campaign.id}").status_code == 404


def test_start_creates_recipients_and_answers_at_once(alice_client, org_a, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(organization=org_a, audience_type="tags", audience_config={"tags": ["vip"]})
    vip = Tag.objects.create(organization=org_a, name="vip")
    tagged = [ContactFactory(organization=org_a) for _ in range(3)]
    for contact in tagged:
        contact.tags.add(vip)
    ContactFactory(organization=org_a)  # not tagged
    opted_out = ContactFactory(organization=org_a, opted_out_at="2024-01-01T00:00:00Z")
    opted_out.tags.add(vip)

    with django_capture_on_commit_callbacks() as callbacks:
        response = alice_client.post(f"{URL}/{campaign.id}/start", {"test_mode": False}, format="json")

    assert response.status_code == 202, response.json()
    execution = Execution.objects.get(id=response.json()["id"])
    assert execution.total_recipients == 3
    assert set(execution.recipients.values_list("contact_id", flat=True)) == {c.id for c in tagged}
    assert len(callbacks) == 1  # the dispatcher is queued only once the start commits
    campaign.refresh_from_db()
    assert campaign.status == "active"


def test_start_of_an_archived_campaign_is_refused(alice_client, org_a):
    campaign = CampaignFactory(organization=org_a, status="archived")
    response = alice_client.post(f"{URL}/{campaign.id}/start", {}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    assert not Execution.objects.exists()


def test_start_beyond_max_concurrent_is_refused(alice_client, org_a):
    campaign = CampaignFactory(organization=org_a, max_concurrent_executions=1)
    ContactFactory(organization=org_a)
    assert alice_client.post(f"{URL}/{campaign.id}/start", {}, format="json").status_code == 202

    response = alice_client.post(f"{URL}/{campaign.id}/start", {}, format="json")

    assert response.status_code == 400 and "max_concurrent_executions" in response.json()
    assert Execution.objects.count() == 1


def test_test_mode_goes_to_the_test_contacts_only(alice_client, org_a, org_b):
    campaign = CampaignFactory(organization=org_a)
    chosen, _other = ContactFactory(organization=org_a), ContactFactory(organization=org_a)
    foreign = ContactFactory(organization=org_b)
    bad = alice_client.post(
        f"{URL}/{campaign.id}/start", {"test_mode": True, "test_contact_ids": [foreign.id]}, format="json"
    )
    assert bad.status_code == 400 and "test_contact_ids" in bad.json()

    response = alice_client.post(
        f"{URL}/{campaign.id}/start", {"test_mode": True, "test_contact_ids": [chosen.id]}, format="json"
    )

    assert response.status_code == 202
    execution = Execution.objects.get(id=response.json()["id"])
    assert execution.type == "test"
    assert list(execution.recipients.values_list("contact_id", flat=True)) == [chosen.id]


def test_recipients_are_filtered_by_status_and_paginated(alice_client, org_a):
    campaign = CampaignFactory(organization=org_a)
    for _ in range(3):
        ContactFactory(organization=org_a)
    execution_id = alice_client.post(f"{URL}/{campaign.id}/start", {}, format="json").json()["id"]
    first = Recipient.objects.filter(execution_id=execution_id).order_by("id").first()
    Recipient.objects.filter(id=first.id).update(status="failed", error="número inválido")

    failed = alice_client.get(f"/api/v1/executions/{execution_id}/recipients?status=failed").json()
    pending = alice_client.get(f"/api/v1/executions/{execution_id}/recipients?status=pending&page_size=1").json()
    bad = alice_client.get(f"/api/v1/executions/{execution_id}/recipients?status=nope")

    assert [r["id"] for r in failed["results"]] == [first.id]
    assert pending["count"] == 2
    assert bad.status_code == 400 and "status" in bad.json()


def test_execution_detail_stats_and_report(alice_client, org_a):
    campaign = CampaignFactory(organization=org_a)
    contacts = [ContactFactory(organization=org_a, name=f"Ana {i}") for i in range(4)]
    execution_id = alice_client.post(f"{URL}/{campaign.id}/start", {}, format="json").json()["id"]
    recipients = list(Recipient.objects.filter(execution_id=execution_id).order_by("id"))
    Recipient.objects.filter(id=recipients[0].id).update(
        status="read",
        sent_at="2024-01-01T10:00:00Z",
        delivered_at="2024-01-01T10:00:10Z",
        read_at="2024-01-01T10:01:00Z",
    )
    Recipient.objects.filter(id=recipients[1].id).update(status="sent", sent_at="2024-01-01T10:00:00Z")
    Recipient.objects.filter(id=recipients[2].id).update(status="failed")

    detail = alice_client.get(f"/api/v1/executions/{execution_id}").json()
    stats = alice_client.get(f"/api/v1/executions/{execution_id}/stats").json()
    campaign_stats = alice_client.get(f"{URL}/{campaign.id}/stats").json()
    report = alice_client.get(f"/api/v1/executions/{execution_id}/report.csv")

    assert detail["progress"]["done"] == 3 and detail["progress"]["total"] == 4
    assert stats["sent"] == 2 and stats["delivered"] == 1 and stats["read"] == 1
    assert stats["delivery_rate"] == 50.0 and stats["failure_rate"] == 25.0
    assert stats["avg_seconds_to_deliver"] == 10.0 and stats["avg_seconds_to_read"] == 60.0
    assert campaign_stats["total"] == 4
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))
    assert rows[0][0] == "recipient_id" and len(rows) == 5
    assert {row[2] for row in rows[1:]} == {c.phone for c in contacts}


def test_executions_of_a_campaign_are_listed(alice_client, org_a):
    campaign = CampaignFactory(organization=org_a, max_concurrent_executions=2)
    ContactFactory(organization=org_a)
    alice_client.post(f"{URL}/{campaign.id}/start", {}, format="json")
    body = alice_client.get(f"{URL}/{campaign.id}/executions").json()
    assert body["count"] == 1 and body["results"][0]["flow_automation_id"] == campaign.id


def test_contact_created_at_and_a_csv_column_resolve(alice_client, setup, org_a):
    flow, instance, contacts = setup
    contacts[0].custom_fields = {"company": "ACME", "loyalty_points": "120"}
    contacts[0].save(update_fields=["custom_fields"])
    body = example(flow, instance, contacts)
    FlowMessage.objects.filter(subflow__flow=flow).update(text="Olá {{company}}")
    body["variable_mapping"] = {
        "timestamp": "{{contact.created_at}}",
        "company": "{{contact.company}}",
        "points": "{{contact.custom_fields.loyalty_points}}",
    }

    created = alice_client.post(URL, body, format="json")
    assert created.status_code == 201, created.json()
    started = alice_client.post(f"{URL}/{created.json()['id']}/start")

    assert started.status_code == 202, started.json()
    by_contact = {r.contact_id: r.variables for r in Recipient.objects.all()}
    stamp = contacts[0].created_at.astimezone(UTC).replace(microsecond=0).isoformat()
    assert by_contact[contacts[0].id] == {"timestamp": stamp, "company": "ACME", "points": "120"}
    assert by_contact[contacts[1].id] == {
        "timestamp": contacts[1].created_at.astimezone(UTC).replace(microsecond=0).isoformat(),
        "company": "",
        "points": "",
    }
    assert {e["field"] for e in Execution.objects.get().errors} == {
        "contact.company",
        "contact.custom_fields.loyalty_points",
    }


def test_a_column_no_contact_has_resolves_empty_and_is_reported_at_start(alice_client, setup):
    flow, _instance, _contacts = setup
    FlowMessage.objects.filter(subflow__flow=flow).update(text="Olá {{company}}")
    body = example(*setup)
    body["variable_mapping"] = {"company": "{{contact.company}}"}
    created = alice_client.post(URL, body, format="json")
    body["variable_mapping"] = {"bad": "{{contact.custom_fields}}"}
    bad_syntax = alice_client.post(URL, body, format="json")

    assert created.status_code == 201, created.json()
    assert bad_syntax.status_code == 400
    assert "{{contact.custom_fields}}" in str(bad_syntax.json()["variable_mapping"])
    started = alice_client.post(f"{URL}/{created.json()['id']}/start")
    assert started.status_code == 202, started.json()
    assert [(e["field"], e["missing"]) for e in started.json()["errors"]] == [("contact.company", 2)]
    assert {r.variables["company"] for r in Recipient.objects.all()} == {""}


def test_start_answers_the_old_fields_and_executions_count_live(alice_client, setup, alice):
    flow, instance, contacts = setup
    campaign = alice_client.post(URL, example(flow, instance, contacts), format="json").json()

    started = alice_client.post(
        f"{URL}/{campaign['id']}/start", {"test_mode": False, "test_contact_ids": []}, format="json"
    )

    body = started.json()
    assert started.status_code == 202
    assert (body["automation_id"], body["execution_type"], body["status"], body["total_recipients"]) == (
        campaign["id"],
        "manual",
        "queued",
        2,
    )
    assert body["started_at"] is not None
    Recipient.objects.filter(contact=contacts[0]).update(status="read")
    Recipient.objects.filter(contact=contacts[1]).update(status="failed")
    listed = alice_client.get(f"{URL}/{campaign['id']}/executions").json()["results"][0]
    detail = alice_client.get(f"/api/v1/executions/{body['id']}").json()
    for execution in (listed, detail):
        counts = {
            k: execution[f"messages_{k}"] for k in ("sent", "delivered", "read", "replied", "completed", "failed")
        }
        assert counts == {"sent": 1, "delivered": 1, "read": 1, "replied": 0, "completed": 0, "failed": 1}
        assert execution["triggered_by"] == {"id": alice.id, "username": "alice"} and execution["trigger_event"] == ""
    recipients = alice_client.get(f"/api/v1/executions/{body['id']}/recipients").json()["results"]
    assert {"started_at", "last_retry_at"} <= set(recipients[0])


def test_max_concurrent_executions_defaults_to_the_old_50(alice_client, setup):
    body = example(*setup)
    del body["max_concurrent_executions"]

    response = alice_client.post(URL, body, format="json")

    assert response.status_code == 201 and response.json()["max_concurrent_executions"] == 50


def test_the_execution_list_costs_a_fixed_number_of_queries(alice_client, setup, django_assert_max_num_queries):
    flow, instance, contacts = setup
    campaign = CampaignFactory(
        organization=contacts[0].organization, instances=[instance], max_concurrent_executions=10
    )
    for _ in range(5):
        alice_client.post(f"{URL}/{campaign.id}/start")

    with django_assert_max_num_queries(12):
        listed = alice_client.get("/api/v1/executions").json()["results"]

    assert len(listed) == 5 and all(e["messages_sent"] == 0 and e["numbers"] is None for e in listed)


def test_the_dispatch_modals_schedule_body_names_what_is_missing_or_starts_later(alice_client, setup):
    body = {name: value for name, value in example(*setup).items() if name != "trigger_config"}
    body["trigger_type"] = "scheduled"

    missing = alice_client.post(URL, body, format="json")
    with time_machine.travel("2025-11-19T13:00:00Z", tick=False):
        later = alice_client.post(URL, {**body, "scheduled_at": "2025-11-25T09:00:00-03:00"}, format="json")
    cron = alice_client.post(URL, {**body, "trigger_type": "cron"}, format="json")

    assert missing.status_code == 400 and "trigger_config.scheduled_at" in missing.json(), missing.json()
    assert later.status_code == 201, later.json()
    assert later.json()["trigger_config"] == {"scheduled_at": "2025-11-25T09:00:00-03:00"}
    assert later.json()["next_scheduled_at"] == "2025-11-25T09:00:00-03:00"
    assert cron.status_code == 400 and "trigger_config.expression" in cron.json(), cron.json()
