import factory

from tests.factories.instances import WhatsAppInstanceFactory
from webhooks.models import OptOutSettings, WebhookEvent


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    provider = WebhookEvent.Provider.EVOLUTION
    instance = factory.SubFactory(WhatsAppInstanceFactory, organization=factory.SelfAttribute("..organization"))
    event = "messages.update"
    payload = factory.LazyAttribute(lambda o: {"event": o.event, "data": {"keyId": o.dedupe_key}})
    dedupe_key = factory.Sequence(lambda n: f"3EB0{n:016X}")


class OptOutSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OptOutSettings

    opt_out_keywords = ["SAIR"]


TENANT_FACTORIES = {
    WebhookEvent: lambda organization: WebhookEventFactory(organization=organization),
    OptOutSettings: lambda organization: OptOutSettingsFactory(organization=organization),
}
