"""Parsing Evolution's identifiers into ours."""

import pytest


@pytest.mark.parametrize("jid", ["551187654321@s.whatsapp.net", "5511987654321:12@s.whatsapp.net"])
def test_whatsapp_ids_without_the_ninth_digit_or_with_a_device_find_the_contact(jid):
    from webhooks.evolution.parser import phone_from_jid

    assert phone_from_jid(jid) == "+5511987654321"
