from datetime import UTC, datetime

import pytest
import time_machine

from instances.models import WhatsAppInstance
from instances.services import set_connection_state
from instances.signals import connection_changed
from tests.factories.instances import EvolutionInstanceFactory

OPEN, CONNECTING, CLOSE = (
    WhatsAppInstance.ConnectionState.OPEN,
    WhatsAppInstance.ConnectionState.CONNECTING,
    WhatsAppInstance.ConnectionState.CLOSE,
)


@pytest.fixture
def received():
    calls = []

    def listener(sender, **kwargs):
        calls.append(kwargs)

    connection_changed.connect(listener, weak=False)
    yield calls
    connection_changed.disconnect(listener)


@pytest.mark.django_db(transaction=True)
def test_it_closes_an_open_instance_and_signals_after_commit(org_a, received):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN, health_score=90)

    with time_machine.travel(datetime(2026, 3, 2, 15, 0, tzinfo=UTC), tick=False):
        assert set_connection_state(instance=instance, state=CLOSE, reason="logged out") is True

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert row.connection_state == CLOSE
    assert row.last_disconnected_at == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert row.health_score == 70
    assert row.disconnects_today == 1
    assert instance.connection_state == CLOSE
    assert len(received) == 1
    assert received[0]["instance"].id == instance.id
    assert (received[0]["old_state"], received[0]["new_state"], received[0]["reason"]) == (OPEN, CLOSE, "logged out")


@pytest.mark.django_db(transaction=True)
def test_it_does_nothing_when_the_state_is_unchanged(org_a, received):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN, health_score=90)

    assert set_connection_state(instance=instance, state=OPEN) is False

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert (row.health_score, row.last_connected_at) == (90, None)
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_it_opens_and_stamps_last_connected_at(org_a, received):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=CONNECTING, health_score=50)

    with time_machine.travel(datetime(2026, 3, 2, 16, 0, tzinfo=UTC), tick=False):
        assert set_connection_state(instance=instance, state=OPEN) is True

    row = WhatsAppInstance.objects.get(id=instance.id)
    assert row.last_connected_at == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert row.health_score == 50
    assert [(c["old_state"], c["new_state"]) for c in received] == [(CONNECTING, OPEN)]


@pytest.mark.django_db(transaction=True)
def test_health_never_goes_below_zero_on_close(org_a):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN, health_score=5)

    set_connection_state(instance=instance, state=CLOSE)

    assert WhatsAppInstance.objects.get(id=instance.id).health_score == 0


def test_the_signal_waits_for_the_outer_transaction(org_a, received, django_capture_on_commit_callbacks):
    instance = EvolutionInstanceFactory(organization=org_a, connection_state=OPEN)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        set_connection_state(instance=instance, state=CLOSE)
        assert received == []

    assert len(callbacks) == 1
    callbacks[0]()
    assert [(c["old_state"], c["new_state"]) for c in received] == [(OPEN, CLOSE)]


def test_unknown_states_are_refused(org_a):
    instance = EvolutionInstanceFactory(organization=org_a)

    with pytest.raises(ValueError):
        set_connection_state(instance=instance, state="banned")
