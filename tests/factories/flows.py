from datetime import timedelta

import factory
from django.utils import timezone

from flows.models import (
    Conversation,
    Flow,
    FlowActivity,
    FlowMessage,
    FlowTemplate,
    Handoff,
    MessageHistory,
    ReceivedFile,
    Subflow,
    SystemSetting,
)
from tests.factories.contacts import ContactFactory
from tests.factories.instances import WhatsAppInstanceFactory


class FlowTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FlowTemplate

    name = factory.Sequence(lambda n: f"Chatbot {n}")


class FlowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flow

    template = factory.SubFactory(FlowTemplateFactory)
    name = factory.Sequence(lambda n: f"Flow {n}")


class SubflowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subflow

    flow = factory.SubFactory(FlowFactory)
    name = factory.Sequence(lambda n: f"Subflow {n}")


class FlowMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FlowMessage

    subflow = factory.SubFactory(SubflowFactory)
    text = factory.Sequence(lambda n: f"Message {n}")
    order_index = factory.Sequence(lambda n: n)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    contact = factory.SubFactory(ContactFactory, organization=factory.SelfAttribute("..organization"))
    instance = factory.SubFactory(WhatsAppInstanceFactory, organization=factory.SelfAttribute("..organization"))


def flow_for(organization, **kwargs) -> Flow:
    return FlowFactory(template=FlowTemplateFactory(organization=organization), **kwargs)


def subflow_for(organization) -> Subflow:
    return SubflowFactory(flow=flow_for(organization))


def message_for(organization) -> FlowMessage:
    return FlowMessageFactory(subflow=subflow_for(organization))


def history_for(organization) -> MessageHistory:
    conversation = ConversationFactory(organization=organization)
    return MessageHistory.objects.create(
        organization=organization,
        conversation=conversation,
        contact=conversation.contact,
        instance=conversation.instance,
        direction=MessageHistory.Direction.INBOUND,
        text="oi",
    )


def file_for(organization) -> ReceivedFile:
    conversation = ConversationFactory(organization=organization)
    return ReceivedFile.objects.create(
        organization=organization, conversation=conversation, contact=conversation.contact, original_name="doc.pdf"
    )


def handoff_for(organization) -> Handoff:
    conversation = ConversationFactory(organization=organization)
    now = timezone.now()
    return Handoff.objects.create(
        organization=organization,
        contact=conversation.contact,
        instance=conversation.instance,
        conversation=conversation,
        reason=Handoff.Reason.PHONE,
        started_at=now,
        until=now + timedelta(hours=12),
    )


def activity_for(organization) -> FlowActivity:
    conversation = ConversationFactory(organization=organization)
    return FlowActivity.objects.create(
        organization=organization, conversation=conversation, kind=FlowActivity.Kind.MESSAGE_PROCESSED, duration_ms=12
    )


TENANT_FACTORIES = {
    FlowTemplate: lambda organization: FlowTemplateFactory(organization=organization),
    Flow: flow_for,
    Subflow: subflow_for,
    FlowMessage: message_for,
    Conversation: lambda organization: ConversationFactory(organization=organization),
    ReceivedFile: file_for,
    FlowActivity: activity_for,
    Handoff: handoff_for,
    SystemSetting: lambda organization: SystemSetting.objects.create(
        organization=organization, key="DEBOUNCE_TIME", value="100", value_type="number"
    ),
}
