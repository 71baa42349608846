"""Messages the flow engine must not answer are kept in the history once, marked processed."""

import pytest

from flows.history import record_unanswered_message
from flows.models import MessageHistory
from tests.factories.contacts import ContactFactory
from tests.factories.instances import EvolutionInstanceFactory


@pytest.fixture
def instance(org_a):
    return EvolutionInstanceFactory(organization=org_a)


@pytest.fixture
def contact(org_a):
    return ContactFactory(organization=org_a, phone="+5511987654321")


@pytest.mark.parametrize("outbound", [False, True])
def test_a_message_is_kept_once_and_marked_processed(instance, contact, outbound):
    for _ in range(2):
        record_unanswered_message(
            instance=instance, contact=contact, outbound=outbound, provider_message_id="BAE5", text="SAIR"
        )

    row = MessageHistory.objects.get()
    assert row.direction == ("out" if outbound else "in")
    assert (row.text, row.message_type, row.contact_id) == ("SAIR", "text", contact.id)
    assert row.processed_at is not None
