from datetime import UTC, datetime

import pytest
import time_machine

from instances.models import WhatsAppInstance
from instances.services import set_connection_state
from tests.factories.instances import EvolutionInstanceFactory
from tests.support.instances import flushed

pytestmark = pytest.mark.django_db

OPEN, CONNECTING, CLOSE = (
    WhatsAppInstance.ConnectionState.OPEN,
    WhatsAppInstance.ConnectionState.CONNECTING,
    WhatsAppInstance.ConnectionState.CLOSE,
)


def test_it_closes_an_open_instance_and_signals_after_commit(
    org_a, connection_events, django_capture_on_commit_callbacks
):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN, health_score=90)

    with (
        time_machine.travel(datetime(2026, 3, 2, 15, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert set_connection_state(instance=instance, state=CLOSE, reason="logged out") is True
        assert connection_events == [], "not before the commit"

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert row.connection_state == CLOSE
    assert row.last_disconnected_at == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert row.health_score == 70
    assert row.disconnects_today == 1
    assert instance.connection_state == CLOSE
    [event] = connection_events
    assert event["instance"].id == instance.id
    assert (event["old_state"], event["new_state"], event["reason"]) == (OPEN, CLOSE, "logged out")


def test_it_does_nothing_when_the_state_is_unchanged(org_a, connection_events, django_capture_on_commit_callbacks):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN, health_score=90)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert set_connection_state(instance=instance, state=OPEN) is False

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.health_score, row.last_connected_at) == (90, None)
    assert callbacks == []
    assert connection_events == []


def test_it_opens_and_stamps_last_connected_at(org_a, connection_events, django_capture_on_commit_callbacks):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=CONNECTING, health_score=50)

    with (
        time_machine.travel(datetime(2026, 3, 2, 16, 0, tzinfo=UTC), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert set_connection_state(instance=instance, state=OPEN) is True

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert row.last_connected_at == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert row.health_score == 50
    assert [(e["old_state"], e["new_state"]) for e in connection_events] == [(CONNECTING, OPEN)]


def test_a_stale_copy_still_changes_the_state_once(org_a, connection_events, django_capture_on_commit_callbacks):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN)
    stale = WhatsAppInstance.objects.get(id=instance.id)

    with django_capture_on_commit_callbacks(execute=True):
        assert set_connection_state(instance=instance, state=CLOSE) is True
        assert set_connection_state(instance=stale, state=CLOSE) is False

    assert len(connection_events) == 1
    assert WhatsAppInstance.objects.get(id=instance.id).disconnects_today == 1


def test_health_never_goes_below_zero_on_close(org_a):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN, health_score=5)

    set_connection_state(instance=instance, state=CLOSE)

    assert WhatsAppInstance.objects.get(id=instance.id).health_score == 0


def test_unknown_states_are_refused(org_a):
    instance = EvolutionInstanceFactory(organization=org_a)

    with pytest.raises(ValueError):
        set_connection_state(instance=instance, state="banned")


def test_a_disconnect_starts_a_new_days_counters_and_survives_its_first_flush(org_a):
    from instances.services import record_message_sent

    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN)
    with time_machine.travel(datetime(2026, 3, 2, 15, 0, tzinfo=UTC), tick=False):
        WhatsAppInstance.objects.filter(id=instance.id).update(
            counters_date=datetime(2026, 3, 1).date(), sent_today=40, disconnects_today=2
        )
        set_connection_state(instance=instance, state=CLOSE)
        record_message_sent(instance_id=instance.id)
        row = flushed(instance)

    assert row.counters_date.isoformat() == "2026-03-02"
    assert (row.sent_today, row.disconnects_today) == (1, 1)


def test_a_logged_out_close_marks_the_number_for_a_new_qr_login_with_its_reason(org_a, connection_events):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN)

    assert set_connection_state(instance=instance, state=CLOSE, reason="Logged out (401)", needs_qr_login=True)

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.connection_state, row.needs_qr_login, row.connection_reason) == (CLOSE, True, "Logged out (401)")
    assert instance.needs_qr_login is True


def test_a_logout_reported_after_a_drop_marks_the_closed_number_without_a_second_signal(
    org_a, connection_events, django_capture_on_commit_callbacks
):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN, health_score=90)

    with django_capture_on_commit_callbacks(execute=True):
        assert set_connection_state(instance=instance, state=CLOSE, reason="Connection close (428)") is True
        assert (
            set_connection_state(instance=instance, state=CLOSE, reason="Logged out (401)", needs_qr_login=True)
            is False
        )

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.needs_qr_login, row.connection_reason) == (True, "Logged out (401)")
    assert (row.health_score, row.disconnects_today) == (70, 1)
    assert len(connection_events) == 1


@pytest.mark.parametrize("state", [CLOSE, CONNECTING])
def test_other_changes_leave_the_mark_alone(org_a, state):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN)
    set_connection_state(instance=instance, state=CLOSE, needs_qr_login=True)

    set_connection_state(instance=instance, state=state, reason="reconnecting")

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert row.needs_qr_login is True and row.connection_state == state


def test_only_an_open_clears_the_mark(org_a):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=CLOSE, needs_qr_login=True)

    assert set_connection_state(instance=instance, state=OPEN, reason="QR code scanned") is True

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.connection_state, row.needs_qr_login, row.connection_reason) == (OPEN, False, "QR code scanned")
