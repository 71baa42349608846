"""Conversations as the old chatbot's screens read them: bare arrays and the old field names."""

import pytest

from flows.models import MessageHistory
from tests.factories.flows import ConversationFactory, FlowMessageFactory, SubflowFactory, flow_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(org_a):
    subflow = SubflowFactory(flow=flow_for(org_a, name="Boas-vindas"), name="Início")
    message = FlowMessageFactory(subflow=subflow, text="Qual é o seu nome?")
    conversation = ConversationFactory(
        organization=org_a, flow=subflow.flow, subflow=subflow, current_message=message, external_ticket_id="7001"
    )
    for direction, text in (("out", "Qual é o seu nome?"), ("in", "Ana")):
        MessageHistory.objects.create(
            organization=org_a,
            conversation=conversation,
            contact=conversation.contact,
            instance=conversation.instance,
            direction=direction,
            text=text,
            flow_message=message if direction == "out" else None,
            external_ticket_id="7001",
        )
    return conversation


def test_the_list_is_a_bare_array_with_the_current_messages_text(alice_client, conversation):
    listed = alice_client.get("/api/v1/conversations").json()
    paged = alice_client.get("/api/v1/conversations?page=1").json()

    assert isinstance(listed, list) and len(listed) == 1
    row = listed[0]
    assert (row["current_message"], row["current_message_id"]) == (
        "Qual é o seu nome?",
        conversation.current_message_id,
    )
    assert (row["flow_name"], row["subflow_name"]) == ("Boas-vindas", "Início")
    assert paged["count"] == 1 and paged["results"][0]["id"] == conversation.id


def test_history_is_a_bare_array_with_the_old_names_beside_ours(alice_client, conversation):
    history = alice_client.get(f"/api/v1/conversations/{conversation.id}/history").json()

    assert [
        (h["message_text"], h["is_from_bot"], h["flow_message_id"], h["contact_id"], h["ticket_id"]) for h in history
    ] == [
        ("Qual é o seu nome?", True, conversation.current_message_id, conversation.contact_id, "7001"),
        ("Ana", False, None, conversation.contact_id, "7001"),
    ]
    assert [(h["text"], h["from_bot"]) for h in history] == [("Qual é o seu nome?", True), ("Ana", False)]
