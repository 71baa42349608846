"""A choice step answered through the real intake: a tap's id, a title only, a burst, a miss."""

import pytest

from flows import inbound, tasks
from flows.choice_design import normalized, write_choice
from flows.models import Conversation, MessageHistory, SystemSetting
from flows.starting import start_conversation
from instances.models import SandboxMessage
from tests.factories.contacts import ContactFactory
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    monkeypatch.setattr(tasks.process_burst, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture
def waiting(org_a):
    """A contact at a five-option step whose option B leads to its own subflow."""
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    flow = flow_for(org_a, is_default=True)
    menu = SubflowFactory(flow=flow, name="Menu", order_index=0)
    branch = SubflowFactory(flow=flow, name="Ramo B", order_index=1)
    FlowMessageFactory(subflow=branch, text="Você escolheu B")
    prompt = FlowMessageFactory(subflow=menu, text="Como podemos ajudar?")
    labels = ["Opção A", "Opção B", "Falar com o suporte", "Preços e prazos", "Sair"]
    options = [{"key": key, "label": label} for key, label in zip("abcde", labels, strict=True)]
    options[1]["goto"] = branch
    write_choice(prompt, normalized({"options": options}))
    instance = WhatsAppInstanceFactory(organization=org_a, connection_state="open")
    contact = ContactFactory(organization=org_a, phone="+5511988887777")
    start_conversation(contact=contact, instance=instance, flow=flow)
    return instance, contact


def answer(instance, contact, *texts, choice_key=""):
    for text in texts:
        inbound.handle_inbound_message(instance=instance, contact=contact, text=text, choice_key=choice_key)
    inbound.process_burst(instance_id=instance.id, contact_id=contact.id)
    return list(SandboxMessage.objects.filter(instance=instance).order_by("id").values_list("text", flat=True))


@pytest.mark.parametrize(
    "texts, choice_key",
    [
        (["2"], ""),
        (["Opção B"], ""),
        (["opcao b"], ""),
        (["Falar com o suporte"], "b"),  # the tap's id wins over its text
        (["Opção B"], "b"),
        (["oi", "2"], ""),
    ],
)
def test_every_answer_reaches_branch_b(waiting, texts, choice_key):
    instance, contact = waiting
    sent = answer(instance, contact, *texts, choice_key=choice_key)
    assert sent[-1] == "Você escolheu B"
    assert Conversation.objects.get(contact=contact).variables["last_choice"] == "b"


def test_a_tap_is_kept_in_the_history(waiting):
    instance, contact = waiting
    answer(instance, contact, "Opção B", choice_key="b")
    assert MessageHistory.objects.get(direction="in").choice_key == "b"
