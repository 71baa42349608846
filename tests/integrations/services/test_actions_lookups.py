"""The look-up steps: the contact's open Pontta tickets, and GOSAC's contact as variables."""

import pytest

from flows import inbound
from flows.models import FlowMessage, Subflow, SystemSetting
from integrations.models import ActionRun
from tests.factories.contacts import ContactFactory
from tests.factories.flows import flow_for
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def conversation_with(org, fake_provider, *steps):
    for key in ("DEBOUNCE_TIME", "MESSAGE_COOLDOWN"):
        SystemSetting.objects.create(organization=org, key=key, value="0", value_type="number")
    subflow = Subflow.objects.create(flow=flow_for(org, is_default=True), name="Atendimento", order_index=0)
    for index, fields in enumerate(steps):
        message = FlowMessage(subflow=subflow, order_index=index, **fields)
        message.full_clean()
        message.save()
    instance = WhatsAppInstanceFactory(organization=org, provider="gosac", base_url=fake_provider.url)
    return instance, ContactFactory(organization=org, phone="+5511988887777", name="Ana")


def say(instance, contact, text, captured):
    with captured(execute=True):
        return inbound.simulate_message(instance=instance, contact=contact, text=text)


def sent_texts(fake_provider) -> list[str]:
    return [r.json["message"] for r in fake_provider.requests_to(r"^/send-message$")]


def test_a_step_looks_up_the_contacts_open_tickets(
    org_a, fake_provider, fake_pontta, pontta_integration, django_capture_on_commit_callbacks
):
    fake_pontta.tickets += [
        {"id": 7, "contact_id": "+5511988887777", "status": "closed"},
        {"id": 8, "contact_id": "+5511988887777", "status": "open"},
        {"id": 9, "contact_id": "+5511900000000", "status": "open"},
    ]
    instance, contact = conversation_with(
        org_a,
        fake_provider,
        {
            "action": "pontta_list_tickets",
            "action_config": {
                "integration": "pontta-loja",
                "params": {"contact_id": "{{contact.phone}}"},
                "outputs": {"open_ticket": "ticket_id", "open_count": "count"},
            },
        },
        {"text": "Você tem {{open_count}} chamado aberto: {{open_ticket}}."},
    )

    say(instance, contact, "Oi", django_capture_on_commit_callbacks)

    assert sent_texts(fake_provider) == ["Você tem 1 chamado aberto: 8."]
    [run] = ActionRun.objects.all()
    assert (run.action, run.status, run.result["found"]) == ("pontta_list_tickets", "succeeded", True)


def test_a_step_fills_variables_from_the_gosac_contact(org_a, fake_provider, django_capture_on_commit_callbacks):
    instance, contact = conversation_with(
        org_a,
        fake_provider,
        {
            "action": "gosac_get_contact",
            "action_config": {"params": {"instance_id": 999999}, "outputs": {"gosac_name": "name", "gosac_id": "id"}},
        },
        {"text": "Olá {{gosac_name}} (#{{gosac_id}})"},
    )

    say(instance, contact, "Oi", django_capture_on_commit_callbacks)

    assert sent_texts(fake_provider) == ["Olá Contato (#5511988887777)"]
    assert [r.path for r in fake_provider.requests if r.method == "GET"] == ["/contacts/5511988887777"]
    [run] = ActionRun.objects.all()
    assert run.params["instance_id"] == instance.id  # the conversation's number, whatever the step says


def test_a_gosac_step_on_another_provider_fails_to_its_error_path(
    org_a, fake_provider, django_capture_on_commit_callbacks
):
    instance, contact = conversation_with(
        org_a,
        fake_provider,
        {"action": "gosac_get_contact", "action_config": {"outputs": {"gosac_name": "name"}}},
        {"text": "Erro: {{last_action_error}}"},
    )
    instance.provider = "sandbox"
    instance.save(update_fields=["provider"])

    say(instance, contact, "Oi", django_capture_on_commit_callbacks)

    [run] = ActionRun.objects.all()
    assert run.status == "failed" and "not on a GOSAC number" in run.error
