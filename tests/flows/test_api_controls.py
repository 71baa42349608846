"""The bot's settings and controls, and the analytics, over the API."""

import pytest

from flows.models import MessageHistory, ReceivedFile, SystemSetting
from tests.factories.flows import ConversationFactory, flow_for

pytestmark = pytest.mark.django_db


def test_settings_and_bot_controls(alice_client, org_a):
    settings = alice_client.get("/api/v1/settings").json()
    assert settings["BOT_ENABLED"]["value"] is True and settings["BOT_ENABLED"]["is_default"]

    put = alice_client.put("/api/v1/settings/DEBOUNCE_TIME", {"value": 1500}, format="json")
    bad = alice_client.put("/api/v1/settings/BOT_STATUS", {"value": "sleeping"}, format="json")
    unknown = alice_client.put("/api/v1/settings/bad-key", {"value": 1}, format="json")
    assert put.status_code == 200 and put.json()["value"] == 1500
    assert bad.status_code == 400 and "value" in bad.json()
    assert unknown.status_code == 400 and "key" in unknown.json()
    assert SystemSetting.objects.get(organization=org_a, key="DEBOUNCE_TIME").value == "1500"

    assert alice_client.post("/api/v1/bot/disable").json()["answering"] is False
    assert alice_client.get("/api/v1/bot/status").json()["enabled"] is False
    assert alice_client.post("/api/v1/bot/enable").json()["answering"] is True
    test_mode = alice_client.post("/api/v1/bot/test-mode", {"enabled": True, "contact_ids": ["12"]}, format="json")
    assert test_mode.json()["test_mode"] is True and test_mode.json()["test_contact_ids"] == ["12"]


def test_settings_of_another_organization_are_out_of_reach(alice_client, org_b):
    response = alice_client.put(
        f"/api/v1/settings/BOT_ENABLED?organization={org_b.id}", {"value": False}, format="json"
    )
    assert response.status_code == 400 and "organization" in response.json()
    assert not SystemSetting.objects.exists()


def test_analytics(alice_client, org_a):
    flow = flow_for(org_a, name="F1")
    conversation = ConversationFactory(organization=org_a, flow=flow)
    ConversationFactory(organization=org_a, flow=flow, status="completed")
    for direction in ("in", "out", "out"):
        MessageHistory.objects.create(
            organization=org_a,
            conversation=conversation,
            contact=conversation.contact,
            instance=conversation.instance,
            direction=direction,
        )
    for size in (100, 300):
        ReceivedFile.objects.create(
            organization=org_a, contact=conversation.contact, file_type="application/pdf", size=size
        )

    conversations = alice_client.get("/api/v1/analytics/conversations").json()
    files = alice_client.get("/api/v1/analytics/files").json()

    assert conversations["by_status"] == [{"status": "active", "count": 1}, {"status": "completed", "count": 1}]
    assert conversations["by_flow"] == [{"flow": flow.id, "flow_name": "F1", "count": 2}]
    daily = conversations["daily_messages"]
    assert [(d["in"], d["out"], d["messages_count"], d["conversations_count"]) for d in daily] == [(1, 2, 3, 1)]
    assert files["files_by_type"] == [
        {"file_type": "application/pdf", "count": 2, "avg_size_mb": 0.0, "average_size": 200}
    ]
