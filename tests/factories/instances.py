import factory

from instances.models import MessageTemplate, SandboxMessage, WhatsAppInstance
from tests.factories.accounts import OrganizationFactory


class WhatsAppInstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WhatsAppInstance

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Instance {n}")
    provider = WhatsAppInstance.Provider.SANDBOX


class EvolutionInstanceFactory(WhatsAppInstanceFactory):
    provider = WhatsAppInstance.Provider.EVOLUTION
    base_url = "http://127.0.0.1:9"
    instance_name = factory.Sequence(lambda n: f"loja-{n}")
    api_key = factory.Sequence(lambda n: f"evo-key-{n:04d}-SECRET")
    api_version = "v2"
    connection_state = WhatsAppInstance.ConnectionState.OPEN


class GosacInstanceFactory(WhatsAppInstanceFactory):
    provider = WhatsAppInstance.Provider.GOSAC
    base_url = "http://127.0.0.1:9"
    api_key = factory.Sequence(lambda n: f"gosac-auth-{n:04d}-SECRET")
    integration_key = factory.Sequence(lambda n: f"gosac-int-{n:04d}-SECRET")
    connection_state = WhatsAppInstance.ConnectionState.OPEN


class CloudInstanceFactory(WhatsAppInstanceFactory):
    """A Cloud API number; its secrets are encrypted, so a test needs the `secret_keys` fixture."""

    class Meta:
        skip_postgeneration_save = True

    provider = WhatsAppInstance.Provider.CLOUD
    cloud_phone_number_id = factory.Sequence(lambda n: f"1065403522{n:05d}")
    cloud_business_account_id = "102290129340398"
    connection_state = WhatsAppInstance.ConnectionState.OPEN

    @factory.post_generation
    def secrets(self, create, extracted, **kwargs):
        values = {"access_token": "EAAG-test-token", "app_secret": "app-secret-1234", "verify_token": "verify-5678"}
        self.set_cloud_secrets(**{**values, **(extracted or {})})
        if create:
            self.save(update_fields=["cloud_secrets_encrypted"])


class SandboxMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SandboxMessage

    instance = factory.SubFactory(WhatsAppInstanceFactory)
    organization = factory.SelfAttribute("instance.organization")
    to_phone = "+5511999999999"
    text = "Olá"
    provider_message_id = factory.Sequence(lambda n: f"SBXTEST{n:08d}")


def make_message_template(organization) -> MessageTemplate:
    from django.utils import timezone

    return MessageTemplate.objects.create(
        organization=organization,
        business_account_id="102290129340398",
        name=f"modelo_{MessageTemplate.objects.count()}",
        language="pt_BR",
        category="UTILITY",
        status=MessageTemplate.APPROVED,
        synced_at=timezone.now(),
    )


TENANT_FACTORIES = {
    WhatsAppInstance: lambda organization: WhatsAppInstanceFactory(organization=organization),
    SandboxMessage: lambda organization: SandboxMessageFactory(instance__organization=organization),
    MessageTemplate: make_message_template,
}
