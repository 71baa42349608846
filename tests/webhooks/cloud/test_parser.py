"""Meta's documented payloads, cut into items and read back into typed events."""

from datetime import UTC, datetime

import pytest

from webhooks.checked import BadPayload
from webhooks.cloud.events import InboundMessage, MessageStatus, TemplateStatus, Unhandled
from webhooks.cloud.parser import parse_item, split

from .conftest import FIXTURES, PHONE_NUMBER_ID, SENT_ID, load


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "v1").glob("*.json")))
def test_every_fixture_is_one_item_of_the_number(name):
    [item] = split(load(name))

    if item.event == "template_status":
        assert item.payload["business_account_id"] == "102290129340398"
        assert isinstance(parse_item(item.payload), TemplateStatus)
    else:
        assert item.phone_number_id == PHONE_NUMBER_ID
        assert isinstance(parse_item(item.payload), MessageStatus | InboundMessage)


def test_a_status_carries_errors_pricing_and_conversation():
    [failed] = split(load("status_failed_131026.json"))
    [sent] = split(load("status_sent.json"))

    event = parse_item(failed.payload)
    assert (event.message_id, event.status, event.recipient_phone) == (SENT_ID, "failed", "+16505551234")
    assert event.error == {"code": 131026, "title": "Message undeliverable", "details": "Message Undeliverable."}
    assert event.occurred_at == datetime.fromtimestamp(1750030075, tz=UTC)
    sent_event = parse_item(sent.payload)
    assert sent_event.pricing["category"] == "marketing" and sent_event.pricing["billable"] is True
    assert sent_event.conversation["origin"]["type"] == "marketing"


def test_media_comes_by_metas_id_with_its_type_and_name():
    image = parse_item(split(load("image_message.json"))[0].payload)
    document = parse_item(split(load("document_message.json"))[0].payload)

    assert (image.message_type, image.media_id, image.mimetype, image.text) == (
        "image",
        "1003383421387256",
        "image/jpeg",
        "Black bag",
    )
    assert (document.file_name, document.mimetype) == ("lucky-shrub-invoice.pdf", "application/pdf")


def test_button_and_list_replies_keep_their_ids():
    button = parse_item(split(load("interactive_button_reply.json"))[0].payload)
    row = parse_item(split(load("interactive_list_reply.json"))[0].payload)

    assert (button.text, button.reply_id) == ("Cancel", "cancel-button")
    assert (row.text, row.reply_id) == ("Priority Mail Express", "priority_express")


def test_a_message_type_not_read_is_unhandled():
    payload = load("text_message.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0] = {
        "from": "16505551234",
        "id": "wamid.X",
        "timestamp": "1749416383",
        "type": "reaction",
        "reaction": {"message_id": "wamid.Y", "emoji": "👍"},
    }

    assert isinstance(parse_item(split(payload)[0].payload), Unhandled)


def test_an_unknown_status_is_a_bad_payload():
    payload = load("status_sent.json")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["status"] = "exploded"

    with pytest.raises(BadPayload, match="status must be one of"):
        split(payload)
