"""The campaign admin's tests' helpers: its URLs, what a browser would post back, a filled execution."""

import json

from django.urls import reverse

from campaigns.models import Execution, Recipient
from contacts.models import Contact

ADD = reverse("admin:campaigns_campaign_add")


def change_url(campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.id])


def form_data(response) -> dict:
    """What the browser would post back from the page as rendered (the form and its inlines)."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if value is True:
                data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = str(value)
            if form.fields[name].show_hidden_initial:  # rendered beside the field, as Django does
                data[form.add_initial_prefix(name)] = data[key]

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def new_campaign(org_a, setup, **changes) -> dict:
    flow, first, second, contacts = setup
    data = {
        "organization": str(org_a.id),
        "name": "Disparo Black Friday",
        "description": "Enviar oferta especial",
        "template": str(flow.template_id),
        "flow": str(flow.id),
        "whatsapp_number": str(first.id),
        "more_whatsapp_numbers": [str(second.id)],
        "variable_mapping": json.dumps({"customer_name": "{{contact.name}}", "discount": "10%"}),
        "audience_type": "custom",
        "audience_config": json.dumps({"contact_ids": [c.id for c in contacts]}),
        "trigger_type": "manual",
        "trigger_config": "{}",
        "time_zone": "America/Sao_Paulo",
        "max_concurrent_executions": "1",
        "rate_limit_per_hour": "500",
        "min_interval_seconds": "2",
        "interval_jitter_seconds": "0",
        "pause_seconds": "0",
        "retry_failed": "on",
        "max_retries": "3",
        "executions-TOTAL_FORMS": "0",
        "executions-INITIAL_FORMS": "0",
        "schedule-TOTAL_FORMS": "0",
        "schedule-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def execution_with(org, campaign, statuses, *, status=Execution.Status.RUNNING) -> Execution:
    execution = Execution.objects.create(organization=org, campaign=campaign, status=status)
    contacts = Contact.objects.bulk_create(
        [Contact(organization=org, phone=f"+55119{execution.id:03d}{i:05d}") for i in range(len(statuses))]
    )
    Recipient.objects.bulk_create(
        [
            Recipient(execution=execution, contact=contact, phone=contact.phone, status=status)
            for contact, status in zip(contacts, statuses, strict=True)
        ]
    )
    Execution.objects.filter(id=execution.id).update(total_recipients=len(statuses))
    return execution
