"""The flow-automations API's documented request (README "Campaigns"), shared by the API's tests."""

URL = "/api/v1/flow-automations"


def example(flow, instance, contacts):
    return {
        "name": "Disparo Black Friday",
        "description": "Enviar oferta especial",
        "chatbot_id": str(flow.template_id),
        "flow_id": str(flow.id),
        "whatsapp_number_id": str(instance.id),
        "trigger_type": "manual",
        "trigger_config": {},
        "audience_type": "custom",
        "audience_config": {"contact_ids": [str(c.id) for c in contacts]},
        "variable_mapping": {"customer_name": "{{contact.name}}", "discount": "10%"},
        "max_concurrent_executions": 50,
        "rate_limit_per_hour": 500,
    }
