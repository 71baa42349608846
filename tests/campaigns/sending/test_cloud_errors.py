"""Meta's refusals through the real dispatcher, the flow engine and the fake Graph API over HTTP."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns.models import CampaignLog, Execution, Recipient
from campaigns.sending import dispatch
from campaigns.services import starting
from contacts.models import Contact
from instances.services import record_contact_message
from tests.factories.campaigns import CampaignFactory
from tests.factories.contacts import ContactFactory
from tests.factories.instances import CloudInstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloud(org_a, fake_graph):
    return CloudInstanceFactory(organization=org_a)


@pytest.fixture
def contact(org_a, cloud):
    contact = ContactFactory(organization=org_a, phone="+5511988887777")
    open_window(cloud, contact)
    return contact


def open_window(cloud, contact, *, at=None):
    record_contact_message(instance=cloud, phone=contact.phone, at=at or timezone.now() - timedelta(minutes=5))


def run(org_a, cloud) -> Recipient:
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[cloud]))
    dispatch.run(execution.id)
    return Recipient.objects.get(execution=execution)


def test_an_accepted_send_is_sent_never_delivered(org_a, cloud, contact, fake_graph):
    recipient = run(
        org_a,
        cloud,
    )

    assert recipient.status == "sent"
    assert recipient.provider_message_id.startswith("wamid.")
    assert recipient.delivered_at is None


@pytest.mark.parametrize(("code", "wait"), [(130429, 2), (131056, 60), (131049, 3600), (131000, 30)])
def test_a_retryable_code_waits_its_seconds_and_keeps_metas_error(org_a, cloud, contact, fake_graph, code, wait):
    fake_graph.refuse_next(code)
    before = timezone.now()

    recipient = run(org_a, cloud)

    assert recipient.status == "pending"
    assert recipient.retry_count == 1
    assert recipient.provider_error["code"] == code
    assert timedelta(seconds=wait - 1) <= recipient.next_attempt_at - before <= timedelta(seconds=wait + 5)


def test_the_marketing_cap_backs_off_over_hours_then_fails(org_a, cloud, contact, fake_graph):
    fake_graph.refuse("5511988887777", 131049)
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[cloud]))
    waits, at = [], timezone.now()
    for _ in range(5):
        with time_machine.travel(at, tick=False):
            dispatch.run(execution.id)
        recipient = Recipient.objects.get(execution=execution)
        if recipient.status != "pending":
            break
        waits.append(round((recipient.next_attempt_at - at).total_seconds() / 3600))
        at = recipient.next_attempt_at + timedelta(seconds=1)

    assert waits == [1, 2, 4, 8]
    assert recipient.status == "failed"
    assert "131049" in recipient.error
    assert len(fake_graph.sends) == 5


def test_undeliverable_fails_and_marks_the_contact_not_reachable(org_a, cloud, contact, fake_graph):
    fake_graph.refuse("5511988887777", 131026)

    recipient = run(org_a, cloud)

    assert recipient.status == "failed"
    assert recipient.provider_error == {
        "code": 131026,
        "title": "(#131026) Message Undeliverable",
        "details": "Unable to deliver message.",
    }
    assert Contact.objects.get(id=contact.id).unreachable_at is not None


def test_window_closed_at_meta_fails_naming_the_window(org_a, cloud, contact, fake_graph):
    fake_graph.refuse("5511988887777", 131047)

    recipient = run(org_a, cloud)

    assert recipient.status == "failed"
    assert "24-hour customer service window" in recipient.error


def test_an_older_message_does_not_close_a_window(org_a, cloud, fake_graph):
    inside = ContactFactory(organization=org_a, phone="+5511900000001")
    outside = ContactFactory(organization=org_a, phone="+5511900000002")
    now = timezone.now()
    open_window(cloud, inside, at=now - timedelta(hours=23, minutes=59))
    open_window(cloud, outside, at=now - timedelta(hours=23, minutes=58))
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[cloud]))
    open_window(cloud, outside, at=now - timedelta(hours=24, minutes=1))  # only moves forward: still 23:58

    dispatch.run(execution.id)

    statuses = dict(Recipient.objects.filter(execution=execution).values_list("phone", "status"))
    assert statuses == {inside.phone: "sent", outside.phone: "sent"}


def test_a_window_that_closes_during_the_execution_fails_that_recipient(org_a, cloud, fake_graph):
    contact = ContactFactory(organization=org_a, phone="+5511900000003")
    now = timezone.now()
    open_window(cloud, contact, at=now - timedelta(hours=23, minutes=59))
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[cloud]))

    with time_machine.travel(now + timedelta(minutes=2), tick=False):  # the execution ran late
        dispatch.run(execution.id)

    recipient = Recipient.objects.get(execution=execution)
    assert recipient.status == "failed"
    assert recipient.provider_error["code"] == 131047
    assert "24-hour customer service window" in recipient.error
    assert fake_graph.sends == []


@pytest.mark.parametrize("code", [131008, 132001])
def test_a_template_or_parameter_error_fails_and_pauses_the_execution(org_a, cloud, fake_graph, code):
    for i in range(3):
        open_window(cloud, ContactFactory(organization=org_a, phone=f"+551198888000{i}"))
    fake_graph.refuse_next(code)
    execution = starting.start_campaign(campaign=CampaignFactory(organization=org_a, instances=[cloud]))

    dispatch.run(execution.id)

    execution.refresh_from_db()
    assert execution.status == Execution.Status.PAUSED
    assert execution.pause_reason == Execution.PauseReason.MESSAGE_REFUSED
    assert str(code) in execution.pause_detail
    failed = Recipient.objects.filter(execution=execution, status="failed")
    assert failed.count() == 1
    assert len(fake_graph.sends) <= 3


def test_an_unknown_code_fails_with_the_code(org_a, cloud, contact, fake_graph):
    fake_graph.refuse("5511988887777", 135000)

    recipient = run(org_a, cloud)

    assert recipient.status == "failed"
    assert "135000" in recipient.error
    log = CampaignLog.objects.get(type="message_failed")
    assert log.details["meta_error"]["code"] == 135000


def test_a_refused_token_leaves_the_recipient_pending(org_a, cloud, contact, fake_graph):
    fake_graph.token = "rotated"

    recipient = run(org_a, cloud)

    assert recipient.status == "pending"
    assert recipient.provider_error is None
