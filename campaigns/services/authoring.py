"""Authoring campaigns: validate, create, update and (soft) delete them.

A campaign can be edited only while it is a draft or paused (`check_editable`); deleting
one cancels its live executions through the operator controls.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import audience, variables
from campaigns.models import Campaign, CampaignInstance, Execution, Schedule
from campaigns.schedules import triggers
from campaigns.services.controls import cancel_execution

CAMPAIGN_FIELDS = (
    "name description trigger_type trigger_config audience_type audience_config variable_mapping "
    "max_concurrent_executions rate_limit_per_hour min_interval_seconds interval_jitter_seconds "
    "pause_every_n_sends pause_seconds retry_failed max_retries execution_window_start "
    "execution_window_end time_zone"
).split()


def validate_campaign(*, organization, template, flow, instances: list, fields: dict) -> None:
    """Raises ValidationError naming the field (tenancy, flow in template, audience, variables)."""
    errors = {}
    if template is None or template.organization_id != organization.id:
        errors["chatbot_id"] = _("Unknown chatbot.")
    if flow is None or template is None or flow.template_id != template.id:
        errors["flow_id"] = _("This flow does not belong to the chosen chatbot.")
    if not instances:
        errors["whatsapp_number_id"] = _("Choose the WhatsApp number that sends.")
    elif any(instance.organization_id != organization.id for instance in instances):
        errors["whatsapp_number_id"] = _("Unknown WhatsApp number.")
    for name in ("rate_limit_per_hour", "min_interval_seconds", "interval_jitter_seconds", "max_concurrent_executions"):
        value = fields.get(name)
        if value is not None and value < 0:
            errors[name] = _("Must not be negative.")
    if fields.get("max_concurrent_executions") == 0:
        errors["max_concurrent_executions"] = _("Must be at least 1.")
    start, end = fields.get("execution_window_start"), fields.get("execution_window_end")
    if (start is None) != (end is None):
        errors["execution_window_end"] = _("Give both the start and the end of the window, or neither.")
    errors.update(
        triggers.check_trigger(
            fields.get("trigger_type", "manual"),
            fields.get("trigger_config"),
            fields.get("time_zone") or organization.time_zone,
        )
    )
    try:
        variables.validate_mapping(fields.get("variable_mapping", {}))
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        config = fields.get("audience_config") or {}
        audience.audience_queryset(
            organization=organization, audience_type=fields.get("audience_type", "custom"), audience_config=config
        )
        if fields.get("audience_type", "custom") == "custom":
            audience.check_contact_ids(organization, audience.contact_ids_of(config))
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_campaign(*, organization, template, flow, instances: list, created_by=None, **fields) -> Campaign:
    fields = {name: value for name, value in fields.items() if name in CAMPAIGN_FIELDS}
    validate_campaign(organization=organization, template=template, flow=flow, instances=instances, fields=fields)
    campaign = Campaign(organization=organization, template=template, flow=flow, created_by=created_by, **fields)
    if "time_zone" not in fields:
        campaign.time_zone = organization.time_zone
    campaign.full_clean(exclude=["instances"])
    campaign.save()
    _set_instances(campaign, instances)
    triggers.apply_trigger(campaign=campaign)
    return campaign


@transaction.atomic
def update_campaign(
    *, campaign: Campaign, template=None, flow=None, instances: list | None = None, **fields
) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(id=campaign.id)
    check_editable(campaign)
    previous_trigger = campaign.trigger_type
    fields = {name: value for name, value in fields.items() if name in CAMPAIGN_FIELDS}
    template = template or campaign.template
    flow = flow or campaign.flow
    instance_list = instances if instances is not None else campaign.ordered_instances()
    merged = {name: getattr(campaign, name) for name in CAMPAIGN_FIELDS} | fields
    validate_campaign(
        organization=campaign.organization, template=template, flow=flow, instances=instance_list, fields=merged
    )
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.template, campaign.flow = template, flow
    campaign.full_clean(exclude=["instances"])
    campaign.save(update_fields=[*fields, "template", "flow", "updated_at"])
    if instances is not None:
        _set_instances(campaign, instances)
    if {"trigger_type", "trigger_config", "time_zone"} & set(fields):
        triggers.apply_trigger(campaign=campaign, previous_type=previous_trigger)
    return campaign


def check_editable(campaign: Campaign) -> None:
    if not campaign.is_editable:
        raise ValidationError(
            {
                "status": _("Only draft or paused campaigns can be edited (this one is %(s)s).")
                % {"s": campaign.get_status_display()}
            }
        )


def _set_instances(campaign: Campaign, instances: list) -> None:
    CampaignInstance.objects.filter(campaign=campaign).delete()
    CampaignInstance.objects.bulk_create(
        [CampaignInstance(campaign=campaign, instance=instance, position=i) for i, instance in enumerate(instances)]
    )


@transaction.atomic
def delete_campaign(*, campaign: Campaign, user=None) -> None:
    """Soft delete: hidden everywhere, its live executions cancelled, its history kept."""
    for execution in campaign.executions.filter(status__in=Execution.LIVE):
        cancel_execution(execution=execution, user=user)
    campaign.transition(Campaign.Status.ARCHIVED)
    Campaign.objects.filter(id=campaign.id).update(deleted_at=timezone.now())
    Schedule.objects.filter(campaign=campaign).update(is_active=False)


def activate_campaign(*, campaign: Campaign) -> bool:
    """Draft -> active without starting: a campaign that starts on a trigger (an inbound event) goes live."""
    if campaign.trigger_type == Campaign.TriggerType.MANUAL:
        raise ValidationError({"trigger_type": _("A manual campaign goes live when it is started.")})
    activated = Campaign.objects.filter(id=campaign.id, status=Campaign.Status.DRAFT).update(
        status=Campaign.Status.ACTIVE, updated_at=timezone.now()
    )
    if activated:
        campaign.status = Campaign.Status.ACTIVE
    return bool(activated)
