"""Statuses and inbound messages through the durable intake, as Meta posts them."""

from datetime import UTC, datetime

import pytest

from campaigns.models import Recipient
from contacts.models import Contact
from flows.models import MessageHistory
from instances.models import ContactWindow, MessageTemplate
from webhooks.cloud.intake import retry_unapplied
from webhooks.models import WebhookEvent

from .conftest import SENT_ID, load, post

pytestmark = pytest.mark.django_db


def status_of(recipient) -> str:
    return Recipient.objects.get(id=recipient.id).status


def test_an_accepted_item_is_stored_before_the_answer_and_applied_by_a_worker(
    cloud, recipient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = post(cloud, load("status_delivered.json"))

    assert response.json() == {"status": "accepted", "accepted": 1, "duplicate": 0, "other_number": 0}
    event = WebhookEvent.objects.get()
    assert (event.provider, event.event, event.status) == ("cloud", "status", "pending")
    assert event.dedupe_key == f"status:{SENT_ID}:delivered"
    assert event.payload["value"]["statuses"][0]["pricing"]["category"] == "marketing"
    assert len(queued) == 1
    assert status_of(recipient) == "sent"


def test_statuses_move_forward_only_whatever_the_order(cloud, recipient, apply_in_request):
    post(cloud, load("status_read.json"))  # read with no delivered before it
    assert status_of(recipient) == "read"

    post(cloud, load("status_delivered.json"))  # late: fills delivered_at only
    post(cloud, load("status_sent.json"))
    recipient.refresh_from_db()
    assert recipient.status == "read"
    assert recipient.delivered_at is not None


def test_a_redelivered_status_is_a_duplicate(cloud, recipient, apply_in_request):
    post(cloud, load("status_delivered.json"))

    response = post(cloud, load("status_delivered.json"))

    assert response.json()["duplicate"] == 1
    assert WebhookEvent.objects.count() == 1


def test_an_accepted_send_stays_sent_until_meta_says_delivered(cloud, recipient, apply_in_request):
    post(cloud, load("status_sent.json"))
    assert status_of(recipient) == "sent"

    post(cloud, load("status_delivered.json"))
    assert status_of(recipient) == "delivered"


def test_a_failed_status_keeps_metas_error_and_marks_an_undeliverable_contact(cloud, recipient, apply_in_request):
    post(cloud, load("status_failed_131026.json"))

    recipient.refresh_from_db()
    assert recipient.status == "failed"
    assert recipient.provider_error == {
        "code": 131026,
        "title": "Message undeliverable",
        "details": "Message Undeliverable.",
    }
    assert Contact.objects.get(id=recipient.contact_id).unreachable_at is not None


def test_many_statuses_in_one_post_are_one_row_each(cloud, recipient, apply_in_request):
    payload = load("status_sent.json")
    statuses = payload["entry"][0]["changes"][0]["value"]["statuses"]
    statuses.append({**statuses[0], "status": "delivered", "timestamp": "1750030074"})

    assert post(cloud, payload).json()["accepted"] == 2
    assert status_of(recipient) == "delivered"


def test_a_text_message_reaches_the_flows(cloud, apply_in_request, no_waits):
    response = post(cloud, load("text_message.json"))

    assert response.json()["accepted"] == 1
    contact = Contact.objects.get(phone="+16505551234")
    assert contact.name == "Sheena Nelson"
    history = MessageHistory.objects.get(direction="in")
    assert history.contact_id == contact.id
    assert "another color" in history.text


def test_a_contacts_message_opens_its_window_at_the_messages_time(cloud, apply_in_request, no_waits):
    post(cloud, load("text_message.json"))

    window = ContactWindow.objects.get(instance=cloud, phone="+16505551234")
    assert window.last_inbound_at == datetime.fromtimestamp(1749416383, tz=UTC)


@pytest.mark.parametrize(
    ("fixture", "text"),
    [("interactive_button_reply.json", "Cancel"), ("interactive_list_reply.json", "Priority Mail Express")],
)
def test_button_and_list_replies_reach_the_flows_as_their_titles(cloud, apply_in_request, no_waits, fixture, text):
    post(cloud, load(fixture))

    assert MessageHistory.objects.get(direction="in").text == text


def test_an_opt_out_keyword_opts_the_contact_out(cloud, contact, apply_in_request):
    payload = load("text_message.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "SAIR"

    post(cloud, payload)

    assert Contact.objects.get(id=contact.id).is_opted_out


def test_a_failed_application_is_kept_and_retried(cloud, recipient, monkeypatch, apply_in_request):
    from webhooks.cloud import intake

    monkeypatch.setattr(intake, "apply", lambda **kwargs: 1 / 0)
    post(cloud, load("status_delivered.json"))
    assert WebhookEvent.objects.get().status == "failed"

    monkeypatch.undo()
    assert retry_unapplied(older_than_seconds=0) == {"delivered": 1}
    assert status_of(recipient) == "delivered"
    assert WebhookEvent.objects.get().status == "applied"


def test_a_template_status_notice_reaches_the_accounts_template(cloud, apply_in_request):
    response = post(cloud, load("message_template_status_update.json"))

    assert response.json()["accepted"] == 1
    row = MessageTemplate.objects.get(name="welcome_template", language="en_US")
    assert (row.status, row.reason, row.meta_id) == ("REJECTED", "INVALID_FORMAT", "806312974732579")


def test_a_template_notice_of_another_account_is_not_stored(cloud, apply_in_request):
    payload = load("message_template_status_update.json")
    payload["entry"][0]["id"] = "999"

    assert post(cloud, payload).json()["other_number"] == 1
    assert not MessageTemplate.objects.exists()
