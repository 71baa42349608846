"""flows.starting.start_conversation: the entry point campaigns use."""

from datetime import UTC

import pytest

from flows.models import Conversation, MessageHistory, ScheduledSend
from flows.signals import conversation_completed
from flows.starting import send_start, start_conversation, store_starts
from instances.models import WhatsAppInstance
from instances.providers.base import ProviderRejected
from tests.factories.contacts import ContactFactory
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def evolution(org_a, fake_provider):
    return WhatsAppInstanceFactory(
        organization=org_a,
        provider=WhatsAppInstance.Provider.EVOLUTION,
        base_url=fake_provider.url,
        instance_name="loja",
        api_key="k",
        connection_state="open",
    )


@pytest.fixture
def contact(org_a):
    return ContactFactory(organization=org_a, phone="+5511988887777", name="Maria")


def _flow(org, *specs):
    flow = flow_for(org, is_default=True)
    subflow = SubflowFactory(flow=flow, order_index=0)
    for index, spec in enumerate(specs):
        FlowMessageFactory(subflow=subflow, order_index=index, **spec)
    return flow


def test_it_sends_up_to_the_first_wait_and_stores_the_conversation(org_a, evolution, contact, fake_provider):
    flow = _flow(
        org_a,
        {"text": "Olá {{customer_name}}!"},
        {"text": "Seu desconto é {{discount}}. Quer saber mais?", "wait_for_response": True},
        {"text": "Obrigado"},
    )

    started = start_conversation(
        contact=contact, instance=evolution, flow=flow, variables={"customer_name": "Maria", "discount": "10%"}
    )

    sent = [r.json["text"] for r in fake_provider.requests_to(r"/message/sendText/loja")]
    assert sent == ["Olá Maria!", "Seu desconto é 10%. Quer saber mais?"]
    assert len(started.sent) == 2
    conversation = Conversation.objects.get()
    assert started.conversation == conversation
    assert conversation.status == Conversation.Status.ACTIVE
    assert conversation.waiting_for == "reply"
    assert conversation.current_message.text.startswith("Seu desconto")
    history = list(MessageHistory.objects.filter(conversation=conversation).order_by("id"))
    assert [h.text for h in history] == sent
    assert [h.provider_message_id for h in history] == [r.provider_message_id for r in started.sent]


def test_contact_fields_fill_the_flow_texts_without_a_mapping(org_a, evolution, fake_provider):
    contact = ContactFactory(
        organization=org_a, phone="+5511988887777", name="Maria", email="m@x.com", custom_fields={"company": "ACME"}
    )
    flow = _flow(
        org_a,
        {"text": "Oi {{contact.name}} ({{contact.phone}}, {{contact.email}}) da {{contact.company}}"},
        {"text": "{{contact.custom_fields.company}} desde {{contact.created_at}}", "wait_for_response": True},
    )

    start_conversation(contact=contact, instance=evolution, flow=flow)

    sent = [r.json["text"] for r in fake_provider.requests_to(r"/message/sendText/loja")]
    since = contact.created_at.astimezone(UTC).replace(microsecond=0).isoformat()
    assert sent == ["Oi Maria (+5511988887777, m@x.com) da ACME", f"ACME desde {since}"]


def test_a_refused_first_send_leaves_nothing_behind(org_a, evolution, contact, fake_provider):
    flow = _flow(org_a, {"text": "Olá"})
    fake_provider.respond("POST", r"/message/sendText/", status=400, json={"response": {"message": ["not exists"]}})

    with pytest.raises(ProviderRejected):
        start_conversation(contact=contact, instance=evolution, flow=flow)

    assert not Conversation.objects.exists()
    assert not MessageHistory.objects.exists()


def test_it_ends_the_previous_active_conversation(org_a, evolution, contact):
    flow = _flow(org_a, {"text": "Menu", "wait_for_response": True})
    first = start_conversation(contact=contact, instance=evolution, flow=flow).conversation
    second = start_conversation(contact=contact, instance=evolution, flow=flow).conversation

    first.refresh_from_db()
    assert first.status == Conversation.Status.ENDED
    assert second.status == Conversation.Status.ACTIVE
    assert Conversation.objects.filter(status="active").count() == 1


def test_a_delayed_message_is_scheduled_not_sent(org_a, evolution, contact, fake_provider):
    flow = _flow(org_a, {"text": "Agora"}, {"text": "Depois", "delay_seconds": 60})

    started = start_conversation(contact=contact, instance=evolution, flow=flow)

    assert [r.json["text"] for r in fake_provider.requests_to(r"/sendText/")] == ["Agora"]
    send = ScheduledSend.objects.get()
    assert send.text == "Depois" and send.status == "pending" and send.continues
    assert 59 <= (send.due_at - started.conversation.started_at).total_seconds() <= 61
    assert started.conversation.waiting_for == "delay"


def test_reaching_the_end_completes_and_signals_after_commit(
    org_a, evolution, contact, django_capture_on_commit_callbacks
):
    flow = _flow(org_a, {"text": "Só isso"})
    received = []

    def listener(sender, conversation, **kwargs):
        received.append(conversation.id)

    conversation_completed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            started = start_conversation(contact=contact, instance=evolution, flow=flow)
    finally:
        conversation_completed.disconnect(listener)

    assert started.conversation.status == Conversation.Status.COMPLETED
    assert received == [started.conversation.id]


def test_its_queries_are_few(org_a, evolution, contact, django_assert_max_num_queries):
    flow = _flow(org_a, {"text": "Olá"}, {"text": "Menu", "wait_for_response": True})
    start_conversation(contact=contact, instance=evolution, flow=flow)  # warms the flow cache

    other = ContactFactory(organization=org_a)
    with django_assert_max_num_queries(7):  # 6, and the waiting message's no-reply timer
        start_conversation(contact=other, instance=evolution, flow=flow)


def test_sent_starts_are_stored_together(org_a, evolution, contact, fake_provider, django_assert_max_num_queries):
    flow = _flow(
        org_a, {"text": "Olá"}, {"text": "Menu", "wait_for_response": True}, {"text": "Fim", "delay_seconds": 60}
    )
    earlier = start_conversation(contact=contact, instance=evolution, flow=flow).conversation
    others = [ContactFactory(organization=org_a) for _ in range(3)]
    starts = [send_start(contact=c, instance=evolution, flow=flow) for c in [contact, *others]]
    assert Conversation.objects.count() == 1  # sent, nothing stored yet

    with django_assert_max_num_queries(7):  # 6, and the waiting message's no-reply timer
        conversations = store_starts(starts)

    assert [c.contact_id for c in conversations] == [c.id for c in [contact, *others]]
    earlier.refresh_from_db()
    assert earlier.status == Conversation.Status.ENDED
    assert Conversation.objects.filter(status="active").count() == 4
    for conversation, started in zip(conversations, starts, strict=True):
        history = MessageHistory.objects.filter(conversation=conversation).order_by("id")
        assert list(history.values_list("provider_message_id", flat=True)) == [
            r.provider_message_id for r in started.results
        ]
        assert conversation.waiting_for == "reply"
