from instances.models import WhatsAppInstance

DEMO_INSTANCE_NAME = "demo-sandbox"


def seed(organization) -> None:
    """The demo's sandbox instance: open, playing each message's life back. Safe to run again."""
    WhatsAppInstance.objects.get_or_create(
        instance_name=f"{DEMO_INSTANCE_NAME}-{organization.slug}",
        defaults={
            "organization": organization,
            "name": "Sandbox",
            "provider": WhatsAppInstance.Provider.SANDBOX,
            "phone_number": "+5511900000000",
            "connection_state": WhatsAppInstance.ConnectionState.OPEN,
            "sandbox_config": {
                "playback": True,
                "delivery_delay": 2,
                "read_delay": 5,
                "reply_delay": 15,
                "failure_probability": 0.03,
                "delivery_probability": 0.97,
                "read_probability": 0.7,
                "reply_probability": 0.15,
                "reply_text": "Sim",
            },
        },
    )
