"""Opt-out words win over everything: "SAIR" at a step whose option is "Sair" opts the contact out."""

import pytest

from flows.choice_design import normalized, write_choice
from flows.models import Conversation, MessageHistory, SystemSetting
from flows.starting import start_conversation
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import EvolutionInstanceFactory

from .conftest import API_KEY, INSTANCE_NAME, load, post

pytestmark = pytest.mark.django_db


def test_an_opt_out_word_wins_over_a_global_keyword_and_the_steps_options(
    org_a, contact, fake_provider, apply_in_request
):
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    instance = EvolutionInstanceFactory(
        organization=org_a, instance_name=INSTANCE_NAME, api_key=API_KEY, base_url=fake_provider.url
    )
    flow = flow_for(org_a, is_default=True)
    menu = SubflowFactory(flow=flow, name="Menu", order_index=0)
    leave = SubflowFactory(flow=flow, name="Saindo", order_index=1, trigger_keywords=["sair"], is_global=True)
    FlowMessageFactory(subflow=leave, text="Até logo pelo fluxo")
    prompt = FlowMessageFactory(subflow=menu, text="Escolha:")
    write_choice(prompt, normalized({"options": [{"label": "Continuar"}, {"label": "Sair", "goto": leave}]}))
    start_conversation(contact=contact, instance=instance, flow=flow)
    sends = len(fake_provider.requests)

    response = post(instance, load("v2/messages_upsert_opt_out.json"))

    assert response.json()["status"] == "opted_out"
    contact.refresh_from_db()
    assert contact.is_opted_out
    assert len(fake_provider.requests) == sends  # neither the option nor the keyword answered
    assert not MessageHistory.objects.filter(direction="in", processed_at__isnull=True).exists()
    assert Conversation.objects.get(contact=contact).waiting_for == "choice"
