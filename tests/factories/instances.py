import factory

from instances.models import WhatsAppInstance


class WhatsAppInstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WhatsAppInstance

    name = factory.Sequence(lambda n: f"Instance {n}")
    provider = WhatsAppInstance.Provider.SANDBOX


TENANT_FACTORIES = {
    WhatsAppInstance: lambda organization: WhatsAppInstanceFactory(organization=organization),
}
