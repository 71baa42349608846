import factory

from campaigns.models import Campaign, CampaignInstance, CampaignLog, Execution, InboundEvent, Recipient, Schedule
from flows.models import Flow, FlowMessage, FlowTemplate, Subflow
from instances.models import WhatsAppInstance


def make_flow(
    organization, text: str = "Olá {{customer_name}}, seu desconto é {{discount}}", *, wait_for_reply: bool = True
) -> Flow:
    """A chatbot with one flow whose first message is `text`, then waits for a reply.

    With `wait_for_reply=False` the flow ends with that message, so a send completes it.
    """
    template = FlowTemplate.objects.create(organization=organization, name="Loja")
    flow = Flow.objects.create(template=template, name="Oferta")
    subflow = Subflow.objects.create(flow=flow, name="Início")
    FlowMessage.objects.create(subflow=subflow, text=text, wait_for_response=wait_for_reply)
    return flow


def make_evolution_instance(organization, base_url: str, name: str = "loja-sp") -> WhatsAppInstance:
    """An open Evolution number old enough to be past the warm-up ladder."""
    from datetime import timedelta

    from django.utils import timezone

    instance = WhatsAppInstance.objects.create(
        organization=organization,
        name=name,
        provider="evolution",
        base_url=base_url,
        instance_name=name,
        api_key="secret",
        connection_state="open",
    )
    WhatsAppInstance.objects.filter(id=instance.id).update(created_at=timezone.now() - timedelta(days=60))
    instance.refresh_from_db()
    return instance


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Campanha {n}")
    flow = factory.LazyAttribute(lambda o: make_flow(o.organization))
    template = factory.LazyAttribute(lambda o: o.flow.template)
    audience_type = Campaign.AudienceType.ALL
    variable_mapping = factory.LazyFunction(lambda: {"customer_name": "{{contact.name}}", "discount": "10%"})

    @factory.post_generation
    def instances(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            extracted = [WhatsAppInstance.objects.create(organization=self.organization, name=f"sandbox-{self.id}")]
        for position, instance in enumerate(extracted):
            CampaignInstance.objects.create(campaign=self, instance=instance, position=position)


class ExecutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Execution

    campaign = factory.SubFactory(CampaignFactory, organization=factory.SelfAttribute("..organization"))


def make_recipient(organization) -> Recipient:
    from tests.factories.contacts import ContactFactory

    contact = ContactFactory(organization=organization)
    execution = ExecutionFactory(organization=organization)
    return Recipient.objects.create(execution=execution, contact=contact, phone=contact.phone)


def make_log(organization) -> CampaignLog:
    execution = ExecutionFactory(organization=organization)
    return CampaignLog.objects.create(
        organization=organization,
        campaign=execution.campaign,
        execution=execution,
        type=CampaignLog.Type.EXECUTION_PAUSED,
        message="Pausada pelo operador",
    )


def make_schedule(organization):
    from datetime import date, time

    from campaigns.models import Schedule

    campaign = CampaignFactory(organization=organization)
    return Schedule.objects.create(
        organization=organization,
        campaign=campaign,
        recurrence_type="daily",
        start_date=date(2030, 1, 1),
        start_time=time(9),
    )


def make_inbound_event(organization) -> InboundEvent:
    from tests.factories.contacts import ContactFactory

    contact = ContactFactory(organization=organization)
    return InboundEvent.objects.create(
        organization=organization,
        event="payment.overdue",
        contact=contact,
        result={"contact_id": contact.id, "started": [], "skipped": [], "message": "nothing"},
    )


TENANT_FACTORIES = {
    InboundEvent: make_inbound_event,
    Campaign: lambda organization: CampaignFactory(organization=organization),
    Execution: lambda organization: ExecutionFactory(organization=organization),
    Recipient: make_recipient,
    CampaignLog: make_log,
    Schedule: make_schedule,
}
