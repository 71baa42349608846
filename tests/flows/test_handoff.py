"""A contact who picks "talk to a person" gets that subflow's message, then no bot until resumed in the admin."""

import pytest
from django.contrib.auth.models import Permission

from flows import inbound, tasks
from flows.choice_design import normalized, write_choice
from flows.models import Handoff, SystemSetting
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
def staff_alice(alice, client):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    alice.user_permissions.set(Permission.objects.filter(content_type__app_label="flows"))
    client.force_login(alice)
    return client


def test_a_handoff_option_pauses_the_bot_until_an_operator_resumes_it(org_a, staff_alice):
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    flow = flow_for(org_a, is_default=True)
    menu = SubflowFactory(flow=flow, name="Menu", order_index=0)
    person = SubflowFactory(flow=flow, name="Atendente", order_index=1, hands_off=True)
    FlowMessageFactory(subflow=person, text="Já vou chamar alguém.")
    prompt = FlowMessageFactory(subflow=menu, text="Escolha:", order_index=0)
    write_choice(prompt, normalized({"options": [{"label": "Preços"}, {"label": "Falar com alguém", "goto": person}]}))
    instance = WhatsAppInstanceFactory(organization=org_a, connection_state="open")
    contact = ContactFactory(organization=org_a, phone="+5511988887777", name="Maria")
    start_conversation(contact=contact, instance=instance, flow=flow)

    def say(text):
        inbound.handle_inbound_message(instance=instance, contact=contact, text=text)
        return inbound.process_burst(instance_id=instance.id, contact_id=contact.id)

    def sent():
        return list(SandboxMessage.objects.filter(instance=instance).order_by("id").values_list("text", flat=True))

    say("2")
    assert sent()[-1] == "Já vou chamar alguém."
    handoff = Handoff.objects.get(contact=contact)
    assert handoff.reason == "contact" and handoff.is_open
    count = len(sent())
    assert say("oi?") == "handed_off" and len(sent()) == count

    listing = staff_alice.get("/admin/flows/handoff/").content.decode()
    assert "Maria" in listing and "oi?" in listing
    staff_alice.post("/admin/flows/handoff/", {"action": "resume_bot", "_selected_action": [handoff.id]})
    handoff.refresh_from_db()
    assert not handoff.is_open
    assert "Maria" not in staff_alice.get("/admin/flows/handoff/").content.decode()
    assert say("oi") != "handed_off"
