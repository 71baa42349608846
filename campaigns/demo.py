"""Demo campaign for `make run`: the demo chatbot pushed to every demo contact through the sandbox.

It stays a draft: start it from the admin (Campaigns → select → "Start") and watch the
sandbox play back deliveries, reads and replies. Safe to run again.
"""

from campaigns.models import Campaign
from campaigns.services.authoring import create_campaign
from flows.demo import DEMO_TEMPLATE_NAME
from flows.models import Flow
from instances.models import WhatsAppInstance

DEMO_CAMPAIGN_NAME = "Boas-vindas para todos (demo)"


def seed(organization) -> None:
    if Campaign.objects.filter(organization=organization, name=DEMO_CAMPAIGN_NAME).exists():
        return
    flow = Flow.objects.filter(template__organization=organization, template__name=DEMO_TEMPLATE_NAME).first()
    sandbox = WhatsAppInstance.objects.filter(organization=organization, provider="sandbox").first()
    if flow is None or sandbox is None:
        return
    create_campaign(
        organization=organization,
        template=flow.template,
        flow=flow,
        instances=[sandbox],
        name=DEMO_CAMPAIGN_NAME,
        description="Envia o fluxo de boas-vindas a todos os contatos ativos, pelo sandbox.",
        trigger_type=Campaign.TriggerType.MANUAL,
        audience_type=Campaign.AudienceType.ALL,
        audience_config={},
        variable_mapping={"name": "{{contact.name}}"},
        rate_limit_per_hour=600,
    )
