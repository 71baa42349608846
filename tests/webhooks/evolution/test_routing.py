"""Routing parsed events to their owners: opt-out keywords, the confirmation, status ids."""

from campaigns.models import CampaignLog, Recipient
from tests.factories.campaigns import CampaignFactory, ExecutionFactory
from webhooks.models import OptOutSettings

from .conftest import MESSAGE_ID, load, post


def test_opting_out_stops_the_contacts_pending_recipients_everywhere(
    org_a, instance, contact, recipient, apply_in_request
):
    other = ExecutionFactory(
        organization=org_a, campaign=CampaignFactory(organization=org_a, instances=[instance]), status="running"
    )
    pending = Recipient.objects.create(execution=other, contact=contact, instance=instance, phone=contact.phone)

    response = post(instance, load("v2/messages_upsert_opt_out.json"))

    assert response.json()["status"] == "opted_out"
    contact.refresh_from_db()
    pending.refresh_from_db()
    assert contact.is_opted_out and contact.opt_out_source == "keyword:SAIR"
    recipient.refresh_from_db()
    assert pending.status == Recipient.Status.OPTED_OUT
    assert recipient.status == Recipient.Status.OPTED_OUT  # the sent message it answered
    logs = CampaignLog.objects.filter(type=CampaignLog.Type.CONTACT_OPTED_OUT)
    assert sorted(logs.values_list("execution_id", "severity")) == sorted(
        [(other.id, "warning"), (recipient.execution_id, "warning")]
    )


def test_an_organizations_own_keywords_replace_the_defaults(org_a, instance, contact, recipient, apply_in_request):
    OptOutSettings.objects.create(organization=org_a, opt_out_keywords=["CHEGA"])

    assert post(instance, load("v2/messages_upsert_opt_out.json")).json()["status"] == "replied"
    payload = load("v2/messages_upsert_text.json")
    payload["data"]["message"] = {"conversation": "Chega!"}
    assert post(instance, payload).json()["status"] == "opted_out"


def test_the_opt_out_confirmation_is_sent_when_configured(
    org_a,
    instance,
    contact,
    recipient,
    apply_in_request,
    fake_provider,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    from webhooks.tasks import send_opt_out_confirmation

    instance.base_url = fake_provider.url
    instance.save(update_fields=["base_url"])
    OptOutSettings.objects.create(organization=org_a, confirmation_text="Pronto, você não receberá mais mensagens.")
    # Celery runs the task in this process (plumbing only).
    monkeypatch.setattr(send_opt_out_confirmation, "delay", lambda *args: send_opt_out_confirmation.apply(args))

    with django_capture_on_commit_callbacks(execute=True):
        post(instance, load("v2/messages_upsert_opt_out.json"))
        post(instance, load("v2/messages_upsert_opt_out_punctuated.json"))

    sends = [r for r in fake_provider.requests if "/message/sendText/" in r.path]
    assert len(sends) == 1
    assert sends[0].json["text"] == "Pronto, você não receberá mais mensagens."


def test_statuses_never_use_evolutions_internal_message_id(instance, recipient, apply_in_request):
    payload = load("v2/messages_update_delivered.json")
    payload["data"]["messageId"] = MESSAGE_ID
    payload["data"]["keyId"] = "3EB0000000000000000000"

    assert post(instance, payload).json()["status"] == "not_campaign"
