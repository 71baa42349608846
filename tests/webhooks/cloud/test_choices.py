"""A choice step on a Cloud API number: sent as a list, answered by a tap on a row, matched by the row's id."""

import pytest
from django.utils import timezone

from flows import inbound, tasks
from flows.choice_design import normalized, write_choice
from flows.models import SystemSetting
from flows.starting import start_conversation
from instances import services
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for

from .conftest import PHONE, load, post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    monkeypatch.setattr(tasks.process_burst, "apply_async", lambda *args, **kwargs: None)


def test_a_tap_on_a_list_row_reaches_its_option_by_id(org_a, cloud, contact, fake_graph, apply_in_request):
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    flow = flow_for(org_a, is_default=True)
    menu = SubflowFactory(flow=flow, name="Menu", order_index=0)
    express = SubflowFactory(flow=flow, name="Expresso", order_index=1)
    FlowMessageFactory(subflow=express, text="Você escolheu o expresso")
    prompt = FlowMessageFactory(subflow=menu, text="Como enviar?")
    options = [
        {"key": "standard", "label": "Normal"},
        {"key": "priority", "label": "Prioridade"},
        # Its label is not the title Meta posts back ("Priority Mail Express"): only the id can match.
        {"key": "priority_express", "label": "Expresso", "goto": express},
        {"key": "pickup", "label": "Retirar na loja"},
    ]
    write_choice(prompt, normalized({"options": options}))
    services.record_contact_message(instance=cloud, phone=PHONE, at=timezone.now())
    start_conversation(contact=contact, instance=cloud, flow=flow)

    assert post(cloud, load("interactive_list_reply.json")).status_code == 200
    inbound.process_burst(instance_id=cloud.id, contact_id=contact.id)

    sent = [request.json for request in fake_graph.sends]
    assert sent[0]["interactive"]["type"] == "list"
    assert [row["id"] for row in sent[0]["interactive"]["action"]["sections"][0]["rows"]][2] == "priority_express"
    assert sent[-1]["text"]["body"] == "Você escolheu o expresso"
