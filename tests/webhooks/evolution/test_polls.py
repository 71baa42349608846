"""A poll vote (Evolution v2 `messages.update` with `pollUpdates`) reaches the voted option's branch."""

import pytest

from flows.choice_design import normalized, write_choice
from flows.inbound import process_burst
from flows.models import Conversation, MessageHistory, SystemSetting
from flows.starting import start_conversation
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import EvolutionInstanceFactory
from webhooks.checked import Checked
from webhooks.evolution.events import InboundMessage
from webhooks.evolution.parser import parse
from webhooks.evolution.polls import voted_labels

from .conftest import API_KEY, INSTANCE_NAME, PHONE, load, post

VOTE = "polls/v2_messages_update_poll_vote.json"


def test_the_vote_is_the_option_with_a_voter():
    assert voted_labels(Checked(load(VOTE)["data"])) == ("Opção B",)
    assert voted_labels(Checked({"keyId": "X", "status": "READ"})) is None


def test_a_vote_parses_as_the_contacts_message_with_the_label():
    [event] = parse(load(VOTE)).events
    assert isinstance(event, InboundMessage)
    assert (event.from_me, event.phone, event.text) == (False, PHONE, "Opção B")
    assert event.message_id.startswith("vote-")
    assert parse(load(VOTE)).events == [event]  # the same vote, the same id: stored once


def test_a_withdrawn_vote_is_ignored():
    payload = load(VOTE)
    for update in payload["data"]["pollUpdates"]:
        update["voters"] = []
    parsed = parse(payload)
    assert parsed.events == [] and parsed.ignored == "a withdrawn or unreadable poll vote"


@pytest.mark.django_db
def test_a_vote_takes_the_conversation_to_branch_b(org_a, contact, fake_provider, apply_in_request):
    instance = EvolutionInstanceFactory(
        organization=org_a, instance_name=INSTANCE_NAME, api_key=API_KEY, base_url=fake_provider.url
    )
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    flow = flow_for(org_a, is_default=True)
    menu = SubflowFactory(flow=flow, name="Menu")
    branch = SubflowFactory(flow=flow, name="Ramo B", order_index=1)
    FlowMessageFactory(subflow=branch, text="Você escolheu B")
    prompt = FlowMessageFactory(subflow=menu, text="Como podemos ajudar?")
    labels = ["Opção A", "Opção B", "Falar com o suporte", "Preços e prazos", "Sair"]
    options = [{"label": label, "goto": branch if label == "Opção B" else None} for label in labels]
    write_choice(prompt, normalized({"options": options}))
    start_conversation(contact=contact, instance=instance, flow=flow)
    assert Conversation.objects.get(contact=contact).waiting_for == "choice"

    response = post(instance, load(VOTE))
    process_burst(instance_id=instance.id, contact_id=contact.id)

    assert response.status_code == 200
    conversation = Conversation.objects.get(contact=contact)
    assert conversation.variables["last_choice"] == "opcao-b"
    sent = [r.json["text"] for r in fake_provider.requests_to(r"^/message/sendText/")]
    assert sent[-1] == "Você escolheu B"
    assert MessageHistory.objects.filter(direction="in", text="Opção B").count() == 1
