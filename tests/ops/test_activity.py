"""The flow engine's activity log: processed (with its time), subflow changed, file received."""

import pytest
from django.test import Client

from flows import inbound
from flows.engine import Media
from flows.models import Conversation, FlowActivity, SystemSetting
from tests.factories.contacts import ContactFactory
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation_with_activity(org_a, fake_provider, settings):
    settings.FLOWS_DOWNLOAD_FILES = False
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    flow = flow_for(org_a, is_default=True)
    start = SubflowFactory(flow=flow, name="Início", order_index=0)
    FlowMessageFactory(subflow=start, order_index=0, text="Olá! Digite documento.", wait_for_response=True)
    documents = SubflowFactory(flow=flow, name="Documentos", order_index=1, trigger_keywords=["documento"])
    FlowMessageFactory(subflow=documents, order_index=0, text="Envie o PDF.", wait_for_file=True)
    FlowMessageFactory(subflow=documents, order_index=1, text="Recebido!", wait_for_response=True)
    instance = WhatsAppInstanceFactory(organization=org_a, provider="gosac", base_url=fake_provider.url)
    contact = ContactFactory(organization=org_a)

    def say(text="", media=None):
        inbound.handle_inbound_message(instance=instance, contact=contact, text=text, media=media)
        return inbound.process_burst(instance_id=instance.id, contact_id=contact.id)

    say("Oi")
    say("documento")
    say(media=Media(url="https://files.example.com/rg.pdf", mimetype="application/pdf"))
    return Conversation.objects.get(contact=contact), start, documents


def test_each_burst_is_logged_with_its_time_and_what_changed(conversation_with_activity):
    conversation, start, documents = conversation_with_activity
    rows = list(conversation.activity.order_by("id"))
    kinds = [row.kind for row in rows]
    assert kinds.count("message_processed") == 3
    processed = [row for row in rows if row.kind == "message_processed"]
    assert all(row.duration_ms is not None and row.details["messages"] == 1 for row in processed)
    changes = [row.details for row in rows if row.kind == "subflow_changed"]
    assert {"from_subflow_id": start.id, "to_subflow_id": documents.id} in changes
    files = [row.details for row in rows if row.kind == "file_received"]
    assert len(files) == 1 and files[0]["name"] == "rg.pdf"


def test_the_activity_is_listed_per_conversation_in_the_api(conversation_with_activity, alice_client, charlie_client):
    conversation, _, _ = conversation_with_activity
    response = alice_client.get(f"/api/v1/conversations/{conversation.id}/activity/")
    assert response.status_code == 200
    listed = response.json()["results"]
    assert [row["id"] for row in listed] == list(conversation.activity.order_by("-id").values_list("id", flat=True))
    only = alice_client.get(f"/api/v1/conversations/{conversation.id}/activity?kind=file_received").json()["results"]
    assert [row["kind"] for row in only] == ["file_received"]
    bad = alice_client.get(f"/api/v1/conversations/{conversation.id}/activity/?kind=nope")
    assert bad.status_code == 400 and "kind" in bad.json()
    assert charlie_client.get(f"/api/v1/conversations/{conversation.id}/activity/").status_code == 404


def test_the_admin_lists_one_conversations_activity(conversation_with_activity, admin_user):
    conversation, _, _ = conversation_with_activity
    other = FlowActivity.objects.create(
        organization=conversation.organization, conversation=conversation, kind="message_processed"
    )
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/flows/flowactivity/?conversation={conversation.id}")
    assert page.status_code == 200
    assert page.context["cl"].result_count == conversation.activity.count()
    assert other in page.context["cl"].result_list
    assert client.get(f"/admin/flows/conversation/{conversation.id}/change/").status_code == 200
