"""A five-option choice on each channel: numbered text, an Evolution poll, a Cloud list."""

import pytest

from instances.models import SandboxMessage
from instances.providers.choices import Choice, Option, cloud_interactive, cloud_problems, numbered_text
from instances.services import send_choice
from tests.factories.instances import EvolutionInstanceFactory, GosacInstanceFactory, WhatsAppInstanceFactory
from tests.support.instances import answer

FIVE = Choice(
    prompt="Como podemos ajudar?",
    options=(
        Option("a", "Opção A"),
        Option("b", "Opção B", "Segunda via e boletos"),
        Option("suporte", "Falar com o suporte"),
        Option("d", "Preços e prazos"),
        Option("e", "Sair"),
    ),
    list_button="Ver opções",
)
NUMBERED = "Como podemos ajudar?\n\n1. Opção A\n2. Opção B\n3. Falar com o suporte\n4. Preços e prazos\n5. Sair"


def test_numbered_text_lists_the_options_under_the_prompt():
    assert numbered_text(FIVE) == NUMBERED


@pytest.mark.django_db
def test_the_sandbox_sends_numbered_text(org_a):
    instance = WhatsAppInstanceFactory(organization=org_a)
    send_choice(instance=instance, phone="+5511987654321", choice=FIVE)
    assert SandboxMessage.objects.get(instance=instance).text == NUMBERED


@pytest.mark.django_db
def test_gosac_sends_numbered_text(org_a, fake_provider):
    fake_provider.respond("POST", r"^/send-message$", json=answer("gosac", "send_message_ok"))
    gosac = GosacInstanceFactory(organization=org_a, base_url=fake_provider.url)
    send_choice(instance=gosac, phone="4821", choice=FIVE)
    [request] = fake_provider.requests
    assert request.json == {"contact_id": "4821", "message": NUMBERED}


@pytest.mark.django_db
def test_evolution_sends_a_poll_where_the_instance_supports_it(org_a, fake_provider):
    fake_provider.respond("POST", r"^/message/sendPoll/", status=201, json=answer("evolution", "v2_send_poll_created"))
    instance = EvolutionInstanceFactory(
        organization=org_a, base_url=fake_provider.url, instance_name="loja-centro", supports_polls=True
    )

    result = send_choice(instance=instance, phone="+5511999999999", choice=FIVE)

    [request] = fake_provider.requests
    assert request.path == "/message/sendPoll/loja-centro"
    assert request.json == {
        "number": "5511999999999",
        "name": "Como podemos ajudar?",
        "selectableCount": 1,
        "values": ["Opção A", "Opção B", "Falar com o suporte", "Preços e prazos", "Sair"],
    }
    assert result.provider_message_id == "3EB0C0FFEE0A1B2C3D4E"


@pytest.mark.django_db
def test_evolution_v1_nests_the_poll(org_a, fake_provider):
    fake_provider.respond("POST", r"^/message/sendPoll/", status=201, json=answer("evolution", "v2_send_poll_created"))
    instance = EvolutionInstanceFactory(
        organization=org_a, base_url=fake_provider.url, instance_name="loja-v1", api_version="v1", supports_polls=True
    )
    send_choice(instance=instance, phone="+5511999999999", choice=FIVE)
    [request] = fake_provider.requests
    assert request.json["pollMessage"] == {
        "name": "Como podemos ajudar?",
        "selectableCount": 1,
        "values": list(o.label for o in FIVE.options),
    }


@pytest.mark.django_db
def test_evolution_without_polls_sends_numbered_text(org_a, fake_provider):
    instance = EvolutionInstanceFactory(organization=org_a, base_url=fake_provider.url, instance_name="loja-centro")
    send_choice(instance=instance, phone="+5511999999999", choice=FIVE)
    [request] = fake_provider.requests
    assert request.path == "/message/sendText/loja-centro"
    assert request.json["text"] == NUMBERED


def test_five_options_are_a_cloud_list_with_their_ids():
    body = cloud_interactive(FIVE, to="5511999999999")
    assert body["type"] == "interactive" and body["to"] == "5511999999999"
    interactive = body["interactive"]
    assert interactive["type"] == "list" and interactive["body"] == {"text": "Como podemos ajudar?"}
    assert interactive["action"]["button"] == "Ver opções"
    [section] = interactive["action"]["sections"]
    assert [row["id"] for row in section["rows"]] == ["a", "b", "suporte", "d", "e"]
    assert section["rows"][1] == {"id": "b", "title": "Opção B", "description": "Segunda via e boletos"}
    assert cloud_problems(FIVE) == []


def test_three_options_are_cloud_reply_buttons():
    three = Choice(prompt="Confirma?", options=FIVE.options[:3])
    interactive = cloud_interactive(three, to="5511999999999")["interactive"]
    assert interactive["type"] == "button"
    assert interactive["action"]["buttons"][0] == {"type": "reply", "reply": {"id": "a", "title": "Opção A"}}


def test_cloud_limits_name_the_option():
    long_button = Choice(prompt="Confirma?", options=(Option("a", "Sim"), Option("b", "Não, prefiro falar depois")))
    assert cloud_problems(long_button) == [
        'Option 2 "Não, prefiro falar depois": a button title has at most 20 characters.'
    ]
    eleven = Choice(prompt="Menu", options=tuple(Option(f"o{i}", f"Item {i}") for i in range(11)))
    assert cloud_problems(eleven) == ["A Cloud API list has at most 10 rows."]
    long_row = Choice(prompt="Menu", options=(*FIVE.options[:4], Option("e", "Sair e voltar outro dia, obrigado")))
    assert cloud_problems(long_row) == [
        'Option 5 "Sair e voltar outro dia, obrigado": a list row title has at most 24 characters.'
    ]
