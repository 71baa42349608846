"""A conversation whose steps call Pontta, Sheets and Drive (fake servers over HTTP), and the run's promise."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from flows import inbound
from flows.engine import Media
from flows.models import Conversation, FlowMessage, Subflow, SystemSetting
from integrations.models import ActionRun
from integrations.services import actions
from tests.factories.contacts import ContactFactory
from tests.factories.flows import flow_for
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def sent_texts(fake_provider) -> list[str]:
    return [r.json["message"] for r in fake_provider.requests_to(r"^/send-message$")]


@pytest.fixture
def chat(org_a, fake_provider, pontta_integration, google_integration):
    for key in ("DEBOUNCE_TIME", "MESSAGE_COOLDOWN"):
        SystemSetting.objects.create(organization=org_a, key=key, value="0", value_type="number")
    flow = flow_for(org_a, is_default=True)
    main = Subflow.objects.create(flow=flow, name="Pedido", order_index=0)
    failure = Subflow.objects.create(flow=flow, name="Falha", order_index=1)
    FlowMessage.objects.create(subflow=failure, text="Não consegui agora ({{last_action_error}}).")
    steps = [
        {"text": "Olá! Qual o número do pedido?", "wait_for_response": True, "variable_name": "order"},
        {
            "action": "sheets_lookup",
            "action_config": {
                "integration": "google-loja",
                "params": {
                    "spreadsheet_id": "pedidos",
                    "sheet": "Pedidos!A:C",
                    "column": "pedido",
                    "value": "{{order}}",
                },
                "outputs": {"order_status": "row.status"},
            },
        },
        {
            "text": "Seu pedido {{order}} está {{order_status}}. Envie o comprovante.",
            "wait_for_file": True,
            "expected_file_types": ["pdf"],
        },
        {
            "action": "drive_upload_file",
            "action_config": {
                "integration": "google-loja",
                "params": {"folder_id": "comprovantes", "name": "{{order}}.pdf"},
                "outputs": {"file_link": "link"},
            },
        },
        {
            "action": "pontta_create_ticket",
            "action_config": {
                "integration": "pontta-loja",
                "params": {
                    "contact_id": "{{phone}}",
                    "subject": "Pedido {{order}}",
                    "message": "Comprovante: {{file_link}}",
                },
                "outputs": {"ticket_id": "ticket_id"},
            },
        },
        {"text": "Chamado {{ticket_id}} aberto. Obrigado!"},
    ]
    for index, fields in enumerate(steps):
        message = FlowMessage(
            subflow=main, order_index=index, on_error_subflow=failure if "action" in fields else None, **fields
        )
        message.full_clean()
        message.save()
    instance = WhatsAppInstanceFactory(organization=org_a, provider="gosac", base_url=fake_provider.url)
    contact = ContactFactory(organization=org_a, phone="+5511988887777", name="Ana")
    return instance, contact


def say(instance, contact, text, captured):
    with captured(execute=True):
        return inbound.simulate_message(instance=instance, contact=contact, text=text)


def send_file(instance, contact, url, captured):
    with captured(execute=True):
        inbound.store_inbound(
            instance=instance,
            contact=contact,
            media=Media(url=url, mimetype="application/pdf", filename="comprovante.pdf"),
            provider_message_id="file-1",
            processed=False,
        )
        return inbound.process_burst(instance_id=instance.id, contact_id=contact.id)


def test_a_conversation_looks_up_a_row_uploads_the_file_and_opens_a_ticket(
    chat, fake_provider, fake_google, fake_pontta, django_capture_on_commit_callbacks, alice_client, admin_client
):
    instance, contact = chat
    fake_google.sheets["pedidos"] = [["pedido", "status", "previsao"], ["A100", "em separação", "12/05"]]
    file_url = fake_google.serve_file("/media/comprovante.pdf", b"%PDF-1.4 comprovante")

    say(instance, contact, "Oi", django_capture_on_commit_callbacks)
    say(instance, contact, "A100", django_capture_on_commit_callbacks)
    send_file(instance, contact, file_url, django_capture_on_commit_callbacks)

    assert sent_texts(fake_provider) == [
        "Olá! Qual o número do pedido?",
        "Seu pedido A100 está em separação. Envie o comprovante.",
        "Chamado 1001 aberto. Obrigado!",
    ]
    [uploaded] = fake_google.files.values()
    assert uploaded["name"] == "A100.pdf" and uploaded["parents"] == ["comprovantes"]
    assert uploaded["content"] == b"%PDF-1.4 comprovante"
    [ticket] = fake_pontta.tickets
    assert ticket["subject"] == "Pedido A100" and ticket["contact_id"] == "+5511988887777"
    assert ticket["message"].startswith("Comprovante: https://drive.google.com/file/d/")
    conversation = Conversation.objects.get(contact=contact)
    assert conversation.status == "completed"
    assert conversation.variables["ticket_id"] == "1001" and conversation.variables["order_status"] == "em separação"
    runs = ActionRun.objects.filter(reference=f"conversation:{conversation.id}").order_by("id")
    assert [(r.action, r.status, r.attempts) for r in runs] == [
        ("sheets_lookup", "succeeded", 1),
        ("drive_upload_file", "succeeded", 1),
        ("pontta_create_ticket", "succeeded", 1),
    ]
    assert all(r.latency_ms is not None for r in runs)
    shown = alice_client.get(f"/api/v1/conversations/{conversation.id}/actions")
    assert [r["status"] for r in shown.data["results"]] == ["succeeded"] * 3
    assert shown.data["results"][0]["integration_name"] == "pontta-loja"
    page = admin_client.get(f"/admin/flows/conversation/{conversation.id}/change/").content.decode()
    assert page.count("<td>Succeeded</td>") == 3 and "Google Drive: upload a file" in page


def test_a_refused_action_goes_to_the_on_error_subflow(
    chat, fake_provider, fake_google, django_capture_on_commit_callbacks
):
    instance, contact = chat  # no spreadsheet "pedidos": Google answers 404

    say(instance, contact, "Oi", django_capture_on_commit_callbacks)
    say(instance, contact, "A100", django_capture_on_commit_callbacks)

    assert sent_texts(fake_provider)[-1].startswith("Não consegui agora (Google API: HTTP 404")
    [run] = ActionRun.objects.all()
    assert run.status == "failed" and "404" in run.error


def test_a_timeout_after_the_request_leaves_the_step_unknown_and_it_is_never_repeated(
    chat, fake_provider, fake_google, fake_pontta, settings, django_capture_on_commit_callbacks
):
    instance, contact = chat
    settings.INTEGRATIONS_READ_TIMEOUT = 0.5
    fake_google.sheets["pedidos"] = [["pedido", "status"], ["A100", "ok"]]
    fake_google.respond("GET", r"^/v4/spreadsheets/", status=200, json={"values": []}, delay=1.5)
    fake_google._script.insert(0, fake_google._script.pop())

    say(instance, contact, "Oi", django_capture_on_commit_callbacks)
    say(instance, contact, "A100", django_capture_on_commit_callbacks)

    [run] = ActionRun.objects.all()
    assert run.status == "unknown" and "No answer" in run.error and run.attempts == 1
    # The conversation went to its on_error subflow; the sweep and a second task change nothing.
    assert sent_texts(fake_provider)[-1].startswith("Não consegui agora")
    assert actions.run_action(run_id=run.id) == "not_claimed"
    actions.run_due()
    assert len(fake_google.requests_to(r"^/v4/spreadsheets/", method="GET")) == 1


def test_a_partner_that_proves_it_did_nothing_is_retried_with_backoff(
    chat, fake_provider, fake_pontta, org_a, pontta_integration, django_capture_on_commit_callbacks
):
    fake_pontta.respond("POST", r"^/tickets$", status=503, json={"message": "maintenance"}, times=1)
    fake_pontta._script.insert(0, fake_pontta._script.pop())
    with django_capture_on_commit_callbacks(execute=False):
        run = actions.request_run(
            organization_id=org_a.id,
            action="pontta_create_ticket",
            integration_name="pontta-loja",
            params={"contact_id": "1", "subject": "s", "message": "m"},
            key="test:retry",
            reference="test:1",
        )

    assert actions.run_action(run_id=run.id) == "pending"
    run.refresh_from_db()
    assert run.attempts == 1 and "503" in run.error and run.next_attempt_at > timezone.now()
    assert actions.run_action(run_id=run.id) == "not_claimed"  # not due yet

    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        assert actions.run_action(run_id=run.id) == "succeeded"
    run.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 2 and run.result["ticket_id"] == "1001"
    assert len(fake_pontta.tickets) == 1


def test_a_run_left_running_by_a_dead_worker_becomes_unknown(org_a, pontta_integration, fake_pontta):
    run = ActionRun.objects.create(
        organization=org_a,
        integration=pontta_integration,
        action="pontta_create_ticket",
        reference="test:1",
        key="test:dead",
        status=ActionRun.Status.RUNNING,
        attempts=1,
        claimed_at=timezone.now() - timedelta(hours=1),
        next_attempt_at=timezone.now() - timedelta(hours=1),
    )

    actions.run_due()

    run.refresh_from_db()
    assert run.status == "unknown" and fake_pontta.tickets == []


def test_a_second_request_with_the_same_key_is_the_same_run(
    org_a, pontta_integration, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = actions.request_run(
            organization_id=org_a.id,
            action="http_request",
            integration_name="",
            params={"url": "http://x"},
            key="k",
            reference="r",
        )
        second = actions.request_run(
            organization_id=org_a.id,
            action="http_request",
            integration_name="",
            params={"url": "http://x"},
            key="k",
            reference="r",
        )
    assert first.id == second.id and len(callbacks) == 1
