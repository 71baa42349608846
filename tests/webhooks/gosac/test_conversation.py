"""A scripted conversation end to end: GOSAC webhook in, engine, replies to a fake GOSAC server."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from flows.models import Conversation, MessageHistory, ReceivedFile, ScheduledSend
from flows.sending import send_due
from flows.signals import conversation_completed
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_waits", "eager_celery")]


@pytest.fixture
def shop_flow(org_a):
    flow = flow_for(org_a, is_default=True)
    main = SubflowFactory(flow=flow, name="Início", order_index=0)
    FlowMessageFactory(subflow=main, order_index=0, text="Olá {{name}}! Bem-vinda à Loja.")
    FlowMessageFactory(
        subflow=main, order_index=1, text="Digite preço, documento ou atendente.", wait_for_response=True
    )
    FlowMessageFactory(subflow=main, order_index=2, text="Não entendi, {{last_reply}}? Até logo.")
    prices = SubflowFactory(flow=flow, name="Preços", order_index=1, trigger_keywords=["preço", "valor"], parent=main)
    FlowMessageFactory(subflow=prices, order_index=0, text="Camisetas a partir de R$ 49.")
    FlowMessageFactory(subflow=prices, order_index=1, text="Posso ajudar em algo mais?", delay_seconds=30)
    documents = SubflowFactory(flow=flow, name="Documento", order_index=2, trigger_keywords=["documento"])
    FlowMessageFactory(
        subflow=documents,
        order_index=0,
        text="Envie seu RG em PDF.",
        wait_for_file=True,
        expected_file_types=["pdf"],
        reprompt_text="Ainda aguardo o PDF do RG.",
        variable_name="rg",
    )
    FlowMessageFactory(subflow=documents, order_index=1, text="Recebido, obrigado!")
    return flow


def replies(fake_provider) -> list[str]:
    return [r.json["message"] for r in fake_provider.requests_to(r"^/send-message$")]


def test_a_scripted_conversation(gosac, gosac_instance, shop_flow, fake_provider, django_capture_on_commit_callbacks):
    fake_provider.respond("GET", r"^/files/rg\.pdf$", body=b"%PDF-1.4 rg", content_type="application/pdf")
    completed = []
    conversation_completed.connect(lambda sender, conversation, **kw: completed.append(conversation.id), weak=False)

    # 1. A new contact says hi: the default flow starts, greeting + menu (waits for a reply).
    with django_capture_on_commit_callbacks(execute=True):
        response = gosac.text("Oi")
    assert response.status_code == 200 and response.json() == {"status": "accepted", "reason": "queued"}
    assert replies(fake_provider) == ["Olá Maria Souza! Bem-vinda à Loja.", "Digite preço, documento ou atendente."]
    assert fake_provider.requests_to(r"^/send-message$")[0].json["contact_id"] == "5001"
    conversation = Conversation.objects.get()
    assert conversation.contact.phone == "+5511988887777" and conversation.external_ticket_id == "7001"
    assert conversation.waiting_for == "reply"

    # 2. A keyword (any case, no accent needed) jumps to its subflow, which waits for a file.
    with django_capture_on_commit_callbacks(execute=True):
        gosac.text("quero mandar um DOCUMENTO")
    assert replies(fake_provider)[-1] == "Envie seu RG em PDF."
    conversation.refresh_from_db()
    assert conversation.subflow.name == "Documento" and conversation.waiting_for == "file"

    # 3. Text while waiting for a file: the re-prompt; a file of the wrong type: refused.
    with django_capture_on_commit_callbacks(execute=True):
        gosac.text("já mando")
        gosac.post("document", body="foto.png", mediaUrl=f"{fake_provider.url}/files/foto.png")
    assert replies(fake_provider)[-2] == "Ainda aguardo o PDF do RG."
    assert replies(fake_provider)[-1].startswith("This type of file is not accepted. Please send: pdf.")
    assert not ReceivedFile.objects.exists()

    # 4. The right file is stored (downloaded from its URL) and the flow goes on to its end.
    with django_capture_on_commit_callbacks(execute=True):
        gosac.post("document", body="rg.pdf", mediaUrl=f"{fake_provider.url}/files/rg.pdf")
    assert replies(fake_provider)[-1] == "Recebido, obrigado!"
    received = ReceivedFile.objects.get()
    assert received.processed and received.size == len(b"%PDF-1.4 rg") and received.file.read() == b"%PDF-1.4 rg"
    assert received.original_name == "rg.pdf" and received.file_type == "application/pdf"
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.COMPLETED
    assert conversation.variables["rg"].endswith("/files/rg.pdf")
    assert completed == [conversation.id]

    # 5. A new message starts a new conversation; a keyword mid-sentence, then a delayed message.
    with django_capture_on_commit_callbacks(execute=True):
        gosac.text("Olá de novo")
        gosac.text("Qual o VALOR da camiseta?")
    assert replies(fake_provider)[-1] == "Camisetas a partir de R$ 49."
    second = Conversation.objects.get(status="active")
    assert second.waiting_for == "delay"
    delayed = ScheduledSend.objects.get(conversation=second, status="pending")
    assert delayed.text == "Posso ajudar em algo mais?"
    assert send_due() == 0  # not due yet
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert send_due() == 1
    assert replies(fake_provider)[-1] == "Posso ajudar em algo mais?"
    second.refresh_from_db()
    assert second.status == Conversation.Status.COMPLETED
    delayed.refresh_from_db()
    assert delayed.status == "sent" and send_due() == 0

    # The history holds every message, in and out, with the provider's ids on ours.
    history = MessageHistory.objects.filter(conversation=conversation).order_by("id")
    assert [(h.direction, h.text or h.media_url.rsplit("/", 1)[-1]) for h in history] == [
        ("in", "Oi"),
        ("out", "Olá Maria Souza! Bem-vinda à Loja."),
        ("out", "Digite preço, documento ou atendente."),
        ("in", "quero mandar um DOCUMENTO"),
        ("out", "Envie seu RG em PDF."),
        ("in", "já mando"),
        ("out", "Ainda aguardo o PDF do RG."),
        ("in", "foto.png"),
        ("out", replies(fake_provider)[4]),
        ("in", "rg.pdf"),
        ("out", "Recebido, obrigado!"),
    ]
    assert all(h.provider_message_id for h in history)
    assert len(replies(fake_provider)) == 10


def test_a_reply_matching_no_keyword_goes_on_in_order(gosac, shop_flow, fake_provider):
    gosac.text("Oi")
    gosac.text("sair")

    assert replies(fake_provider)[-1] == "Não entendi, sair? Até logo."
    assert Conversation.objects.get().status == Conversation.Status.COMPLETED
