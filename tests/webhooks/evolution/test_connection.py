"""`connection.update`: which closes mean the number needs a new QR login, and what clears it."""

import pytest

from instances.models import WhatsAppInstance

from .conftest import load, post


def _connection(state: str, reason: int, second: int) -> dict:
    payload = load("v2/connection_update_close_logged_out.json")
    payload["data"].update(state=state, statusReason=reason)
    payload["date_time"] = f"2025-03-14T10:31:{second:02d}.000Z"
    return payload


@pytest.fixture
def opened(instance):
    WhatsAppInstance.objects.filter(id=instance.id).update(connection_state="open")
    return instance


# Evolution stops reconnecting, logs the instance out and posts the close on these.
@pytest.mark.parametrize("reason", [401, 402, 403, 406])
def test_a_logged_out_close_marks_the_number_for_a_new_qr_login(opened, recipient, apply_in_request, reason):
    response = post(opened, _connection("close", reason, 1))

    assert response.status_code == 200 and response.json()["status"] == "needs_qr_login"
    opened.refresh_from_db()
    assert (opened.connection_state, opened.needs_qr_login) == ("close", True)
    assert str(reason) in opened.connection_reason


# Drops Evolution reconnects by itself (connection lost, closed, restart required, replaced).
@pytest.mark.parametrize("reason", [408, 428, 440, 515])
def test_a_transient_close_does_not_ask_for_a_qr_login(opened, recipient, apply_in_request, reason):
    assert post(opened, _connection("close", reason, 1)).json()["status"] == "close"

    opened.refresh_from_db()
    assert (opened.connection_state, opened.needs_qr_login) == ("close", False)


def test_a_logout_after_a_drop_still_marks_the_closed_number(opened, recipient, apply_in_request):
    post(opened, _connection("close", 428, 1))

    assert post(opened, _connection("close", 401, 2)).json()["status"] == "needs_qr_login"

    opened.refresh_from_db()
    assert (opened.connection_state, opened.needs_qr_login, opened.disconnects_today) == ("close", True, 1)


def test_connecting_keeps_the_mark_and_open_clears_it(opened, recipient, apply_in_request):
    post(opened, _connection("close", 401, 1))

    assert post(opened, _connection("connecting", 200, 2)).json()["status"] == "connecting"
    opened.refresh_from_db()
    assert opened.needs_qr_login is True

    assert post(opened, _connection("open", 200, 3)).json()["status"] == "open"
    opened.refresh_from_db()
    assert (opened.connection_state, opened.needs_qr_login) == ("open", False)
