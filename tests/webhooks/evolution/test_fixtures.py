"""Every captured payload parses, applies to its end state, and replays to the same one."""

import random

import pytest

from campaigns.models import CampaignLog
from contacts.models import Contact
from flows.models import MessageHistory
from instances import qr_codes
from webhooks.evolution.parser import parse
from webhooks.models import WebhookEvent

from .conftest import PHONE, fixture_names, load, post

SENT, DELIVERED, READ, REPLIED, FAILED, OPTED_OUT = "sent", "delivered", "read", "replied", "failed", "opted_out"
IGNORED = {"answer": "ignored", "recipient": SENT, "opted_out": False}
# A QR code is kept a minute for the connect page, never stored as an event.
KEPT = {"answer": "kept", "recipient": SENT, "opted_out": False, "qr_kept": True}
NOT_STORED = {"ignored", "kept"}

# What each fixture must leave behind. The recipient starts `sent`, the contact opted
# in, the instance `connecting`.
EXPECTED = {
    "v2/messages_update_server_ack.json": {"answer": "unchanged", "recipient": SENT},
    "v2/messages_update_delivered.json": {"answer": "delivered", "recipient": DELIVERED},
    "v2/messages_update_read.json": {"answer": "read", "recipient": READ},
    "v2/messages_update_played.json": {"answer": "read", "recipient": READ},
    "v2/messages_update_error.json": {"answer": "failed", "recipient": FAILED},
    "v2/messages_update_uppercase_event.json": {"answer": "delivered", "recipient": DELIVERED},
    "v2/messages_update_cloud_api_delivered.json": {"answer": "delivered", "recipient": DELIVERED},
    "v2/messages_update_unknown_message.json": {"answer": "not_campaign", "recipient": SENT},
    "v2/messages_update_edit_without_status.json": IGNORED,
    "v2/messages_update_group.json": IGNORED,
    "v2/messages_update_incoming_read.json": IGNORED,
    "v2/messages_upsert_text.json": {"answer": "replied", "recipient": REPLIED, "opted_out": False},
    "v2/messages_upsert_extended_text.json": {"answer": "replied", "recipient": REPLIED, "opted_out": False},
    "v2/messages_upsert_opt_out.json": {"answer": "opted_out", "recipient": OPTED_OUT, "opted_out": True},
    "v2/messages_upsert_opt_out_punctuated.json": {"answer": "opted_out", "recipient": OPTED_OUT, "opted_out": True},
    "v2/messages_upsert_sentence_with_keyword.json": {"answer": "replied", "recipient": REPLIED, "opted_out": False},
    "v2/messages_upsert_opt_in.json": {"answer": "opted_in", "opted_out": False, "setup_opted_out": True},
    "v2/messages_upsert_lid_with_sender_pn.json": {"answer": "replied", "recipient": REPLIED},
    "v2/messages_upsert_lid_alt_swapped.json": {"answer": "replied", "recipient": REPLIED},
    "v2/messages_upsert_lid_without_phone.json": {"answer": "no_phone", "recipient": SENT},
    "v2/messages_upsert_document.json": {"answer": "replied", "recipient": REPLIED},
    "v2/messages_upsert_image.json": {"answer": "replied", "recipient": REPLIED},
    # Typed on the number's phone (not one of our sends): a person takes the contact over.
    "v2/messages_upsert_from_me.json": {"answer": "handed_off", "recipient": SENT, "history": "out"},
    "v2/messages_upsert_group.json": IGNORED,
    "v2/messages_upsert_status_broadcast.json": IGNORED,
    "v2/messages_upsert_reaction.json": IGNORED,
    "v2/send_message.json": {"answer": "recorded", "recipient": SENT, "history": "out"},
    "v2/connection_update_open.json": {"answer": "open", "state": "open"},
    "v2/connection_update_connecting.json": {"answer": "unchanged", "state": "connecting"},
    "v2/connection_update_close_logged_out.json": {"answer": "needs_qr_login", "state": "close"},
    "v2/messages_delete.json": {"answer": "recorded", "recipient": SENT},
    "v2/presence_update.json": IGNORED,
    "v2/contacts_upsert.json": IGNORED,
    "v2/chats_update.json": IGNORED,
    "v2/qrcode_updated.json": KEPT,
    "v1/messages_update_server_ack.json": {"answer": "unchanged", "recipient": SENT},
    "v1/messages_update_delivered.json": {"answer": "delivered", "recipient": DELIVERED},
    "v1/messages_update_read.json": {"answer": "read", "recipient": READ},
    "v1/messages_update_baileys_numeric_status.json": {"answer": "delivered", "recipient": DELIVERED},
    "v1/messages_update_unknown_message.json": {"answer": "not_campaign", "recipient": SENT},
    "v1/messages_upsert_text.json": {"answer": "replied", "recipient": REPLIED, "opted_out": False},
    "v1/messages_upsert_opt_out.json": {"answer": "opted_out", "recipient": OPTED_OUT, "opted_out": True},
    # Baileys' own shapes, as older handlers document them (fixtures README).
    "v1/messages_upsert_baileys_messages_list_opt_out.json": {
        "answer": "opted_out",
        "recipient": OPTED_OUT,
        "opted_out": True,
    },
    "v1/messages_upsert_key_without_id.json": {"answer": "replied", "recipient": REPLIED, "opted_out": False},
    "v1/messages_update_baileys_nested_status_read.json": {"answer": "read", "recipient": READ},
    "v1/messages_update_baileys_nested_status_list.json": {"answer": "delivered", "recipient": DELIVERED},
    "v1/send_message.json": {"answer": "recorded", "recipient": SENT, "history": "out"},
    "v1/connection_update_open.json": {"answer": "open", "state": "open"},
    "v1/connection_update_close_logged_out.json": {"answer": "needs_qr_login", "state": "close"},
    "v1/messages_delete.json": {"answer": "recorded", "recipient": SENT},
    "v1/qrcode_updated.json": KEPT,
}


def test_every_fixture_has_an_expected_end_state():
    assert sorted(EXPECTED) == fixture_names()


@pytest.mark.parametrize("name", fixture_names())
def test_it_parses(name):
    parsed = parse(load(name))
    assert bool(parsed.ignored) == (EXPECTED[name]["answer"] == "ignored")
    assert bool(parsed.events) != bool(parsed.ignored)


@pytest.mark.parametrize("name", fixture_names())
def test_it_applies(name, instance, contact, recipient, apply_in_request):
    expected = EXPECTED[name]
    if expected.get("setup_opted_out"):
        contact.mark_opted_out(reason="test", source="admin")

    response = post(instance, load(name))

    assert response.status_code == 200, response.content
    assert response.json()["status"] == expected["answer"]
    recipient.refresh_from_db()
    contact.refresh_from_db()
    instance.refresh_from_db()
    if "recipient" in expected:
        assert recipient.status == expected["recipient"]
    if "opted_out" in expected:
        assert contact.is_opted_out is expected["opted_out"]
    assert instance.connection_state == expected.get("state", "connecting")
    stored = WebhookEvent.objects.filter(instance=instance)
    if expected["answer"] in NOT_STORED:
        assert not stored.exists()
    else:
        assert stored.get().status == WebhookEvent.Status.APPLIED
    if expected.get("history") == "out":
        assert MessageHistory.objects.filter(direction="out", contact__phone=PHONE).count() == 1
    pushed = qr_codes.newest(instance_id=instance.id, refresh=dict, refresh_seconds=20)
    if expected.get("qr_kept"):
        assert pushed.qr == load(name)["data"]["qrcode"]["base64"]
    else:
        assert pushed is None


def test_a_failed_status_logs_an_error(instance, recipient, apply_in_request):
    post(instance, load("v2/messages_update_error.json"))

    recipient.refresh_from_db()
    assert recipient.failed_at is not None
    log = CampaignLog.objects.get(recipient=recipient)
    assert (log.type, log.severity) == (CampaignLog.Type.MESSAGE_FAILED, CampaignLog.Severity.ERROR)
    # The status in words (in the language active when it was recorded), as the lists show it, not its code.
    assert log.message in {f"{recipient.phone}: Com falha", f"{recipient.phone}: Failed"}


# Opt-in after opt-out and a failure after delivery do not commute with the rest:
# a person who says SAIR then VOLTAR wants the messages, the other way round does not.
ORDER_DEPENDENT = {"v2/messages_upsert_opt_in.json", "v2/messages_update_error.json"}


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replayed_ten_times_in_shuffled_order_gives_one_end_state(
    version, seed, instance, contact, recipient, apply_in_request
):
    names = [name for name in fixture_names() if name.startswith(version) and name not in ORDER_DEPENDENT]
    deliveries = [name for name in names for _ in range(10)]
    random.Random(seed).shuffle(deliveries)

    answers = [post(instance, load(name)).status_code for name in deliveries]

    assert set(answers) == {200}
    recipient.refresh_from_db()
    contact.refresh_from_db()
    instance.refresh_from_db()
    # The opt-out reply answers our message, in whatever order it came: the recipient ends opted out.
    assert recipient.status == OPTED_OUT
    assert recipient.delivered_at is not None and recipient.read_at is not None
    assert contact.is_opted_out
    assert instance.connection_state == "close"
    # One row per distinct event: v1's numeric 3 and DELIVERY_ACK are the same delivery.
    distinct_events = {parse(load(name)).dedupe_key for name in names if EXPECTED[name]["answer"] not in NOT_STORED}
    assert WebhookEvent.objects.filter(instance=instance).count() == len(distinct_events)
    outbound = {parse(load(name)).dedupe_key for name in names if EXPECTED[name].get("history") == "out"}
    assert MessageHistory.objects.filter(direction="out").count() == len(outbound)
    # A status logs when it moves the recipient; a reply first leaves read/delivered to fill timestamps only.
    log_types = list(CampaignLog.objects.filter(recipient=recipient).values_list("type", flat=True))
    assert len(log_types) == len(set(log_types))
    assert Contact.objects.filter(phone=PHONE).count() == 1
