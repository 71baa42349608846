"""Campaign workflows: create, update, delete, start, and operator controls.

Every function takes keyword arguments, owns its transaction and queues Celery work
only on commit.
"""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import audience, variables
from campaigns.models import Campaign, CampaignInstance, CampaignLog, Execution, Recipient, advance_recipients
from campaigns.windows import now as clock_now
from contacts.models import Contact

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
            _check_contact_ids(organization, audience.contact_ids_of(config))
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)


def _check_contact_ids(organization, ids: list[int], field: str = "audience_config") -> None:
    found = set(Contact.objects.filter(organization=organization, id__in=ids).values_list("id", flat=True))
    unknown = sorted(set(ids) - found)
    if unknown:
        raise ValidationError({field: _("Unknown contact ids: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}})


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
    return campaign


@transaction.atomic
def update_campaign(
    *, campaign: Campaign, template=None, flow=None, instances: list | None = None, **fields
) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(id=campaign.id)
    check_editable(campaign)
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


@transaction.atomic
def start_campaign(
    *,
    campaign: Campaign,
    user=None,
    test_mode: bool = False,
    test_contact_ids: list | None = None,
    execution_type: str = Execution.Type.MANUAL,
    trigger_event: str = "",
) -> Execution:
    """Create the execution and its recipients, then queue the dispatcher on commit."""
    campaign = Campaign.objects.select_for_update().select_related("organization").get(id=campaign.id)
    if campaign.deleted_at or campaign.status == Campaign.Status.ARCHIVED:
        raise ValidationError({"status": _("This campaign is archived and cannot start.")})
    if campaign.status == Campaign.Status.PAUSED and not test_mode:
        raise ValidationError({"status": _("This campaign is paused: resume it before starting it again.")})
    if not test_mode:
        live = campaign.executions.filter(status__in=Execution.LIVE).exclude(type=Execution.Type.TEST).count()
        if live >= campaign.max_concurrent_executions:
            raise ValidationError(
                {
                    "max_concurrent_executions": _("Already %(live)d execution(s) running, the limit is %(max)d.")
                    % {"live": live, "max": campaign.max_concurrent_executions}
                }
            )
    if test_mode:
        ids = [int(i) for i in (test_contact_ids or []) if str(i).isdigit()]
        if not ids or len(ids) != len(test_contact_ids or []):
            raise ValidationError({"test_contact_ids": _("Test mode needs a list of contact ids.")})
        _check_contact_ids(campaign.organization, ids, field="test_contact_ids")
        contacts = audience.reachable_contacts(campaign.organization).filter(id__in=ids)
        execution_type = Execution.Type.TEST
    else:
        contacts = audience.audience_queryset(
            organization=campaign.organization,
            audience_type=campaign.audience_type,
            audience_config=campaign.audience_config,
        )
    at = clock_now()
    execution = Execution.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        type=execution_type,
        triggered_by=user,
        trigger_event=trigger_event,
    )
    total = insert_recipients(execution=execution, contacts=contacts, mapping=campaign.variable_mapping, at=at)
    errors = missing_variable_report(contacts=contacts, mapping=campaign.variable_mapping)
    Execution.objects.filter(id=execution.id).update(total_recipients=total, errors=errors)
    execution.total_recipients, execution.errors = total, errors
    if campaign.status != Campaign.Status.ACTIVE and not test_mode:
        campaign.transition(Campaign.Status.ACTIVE)
    Campaign.objects.filter(id=campaign.id).update(last_executed_at=at)
    log(
        campaign=campaign,
        execution=execution,
        type=CampaignLog.Type.EXECUTION_STARTED,
        message=_("Execution started with %(n)d recipient(s).") % {"n": total},
        details={"test_mode": test_mode},
    )
    from campaigns.tasks import queue_dispatch

    transaction.on_commit(lambda: queue_dispatch(execution.id, fan_out=True))
    return execution


def insert_recipients(*, execution: Execution, contacts, mapping: dict, at) -> int:
    """One `INSERT … SELECT` from the audience query, variables resolved in SQL."""
    rows = (
        contacts.order_by()
        .annotate(
            r_execution=Value(execution.id),
            r_variables=variables.expression(mapping),
            r_status=Value(Recipient.Status.PENDING),
            r_at=Value(at),
            r_empty=Value(""),
            r_zero=Value(0),
        )
        .values_list(
            "r_execution", "id", "phone", "r_variables", "r_status", "r_at", "r_at", "r_empty", "r_empty", "r_zero"
        )
    )
    select_sql, params = rows.query.sql_with_params()
    columns = [
        "execution_id",
        "contact_id",
        "phone",
        "variables",
        "status",
        "created_at",
        "next_attempt_at",
        "provider_message_id",
        "error",
        "retry_count",
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Recipient._meta.db_table} ({', '.join(columns)}) {select_sql}", params)
        return cursor.rowcount


def missing_variable_report(*, contacts, mapping: dict) -> list[dict]:
    """How many recipients got an empty value for each variable field (one aggregate query)."""
    used = variables.fields_used(variables.validate_mapping(mapping))
    checks = {}
    for name, fields in used.items():
        for i, field in enumerate(fields):
            checks[f"m{len(checks)}"] = (name, field, i)
    if not checks:
        return []
    counts = contacts.order_by().aggregate(
        **{alias: Count("id", filter=variables.missing_filter(field)) for alias, (_n, field, _i) in checks.items()}
    )
    return [
        {
            "variable": name,
            "field": field.label,
            "missing": counts[alias],
            "message": _("%(n)d recipient(s) have no %(field)s; it was left empty.")
            % {"n": counts[alias], "field": field.label},
        }
        for alias, (name, field, _i) in checks.items()
        if counts[alias]
    ]


def log(
    *,
    campaign,
    type: str,
    message: str,
    execution=None,
    severity: str = CampaignLog.Severity.INFO,
    recipient=None,
    instance=None,
    details: dict | None = None,
) -> CampaignLog:
    return CampaignLog.objects.create(
        organization_id=campaign.organization_id,
        campaign=campaign,
        execution=execution,
        recipient=recipient,
        contact_id=getattr(recipient, "contact_id", None),
        instance=instance,
        type=type,
        severity=severity,
        message=str(message),
        details=details or {},
    )


# Operator controls -------------------------------------------------------------------


@transaction.atomic
def pause_execution(
    *, execution: Execution, reason: str = Execution.PauseReason.OPERATOR, detail: str = "", user=None
) -> bool:
    paused = execution.transition(Execution.Status.PAUSED, pause_reason=reason, pause_detail=detail[:300])
    if paused:
        severity = CampaignLog.Severity.CRITICAL if reason == Execution.PauseReason.INSTANCE_DISCONNECTED else "info"
        log(
            campaign=execution.campaign,
            execution=execution,
            type=CampaignLog.Type.EXECUTION_PAUSED,
            severity=severity,
            message=detail or str(Execution.PauseReason(reason).label),
            details={"reason": reason, "user": getattr(user, "username", "")},
        )
    return paused


@transaction.atomic
def resume_execution(*, execution: Execution, user=None) -> bool:
    resumed = execution.transition(
        Execution.Status.RUNNING, source=Execution.Status.PAUSED, pause_reason="", pause_detail="", heartbeat_at=None
    )
    if resumed:
        log(
            campaign=execution.campaign,
            execution=execution,
            type=CampaignLog.Type.EXECUTION_RESUMED,
            message=_("Execution resumed."),
            details={"user": getattr(user, "username", "")},
        )
        from campaigns.tasks import queue_dispatch

        transaction.on_commit(lambda: queue_dispatch(execution.id, fan_out=True))
    return resumed


@transaction.atomic
def cancel_execution(*, execution: Execution, user=None) -> int:
    """Cancel; its pending recipients become `skipped`. Returns how many were skipped."""
    if not execution.transition(Execution.Status.CANCELLED, completed_at=timezone.now()):
        return 0
    skipped = advance_recipients(
        Recipient.objects.filter(execution=execution, status=Recipient.Status.PENDING),
        Recipient.Status.SKIPPED,
        error=_("Execution cancelled."),
    )
    log(
        campaign=execution.campaign,
        execution=execution,
        type=CampaignLog.Type.EXECUTION_CANCELLED,
        message=_("Execution cancelled; %(n)d pending recipient(s) skipped.") % {"n": skipped},
        details={"user": getattr(user, "username", "")},
    )
    return skipped


@transaction.atomic
def requeue_recipients(*, execution: Execution, statuses: list[str] | None = None, user=None) -> int:
    """Send `unknown`/`failed` recipients again: only ever on an operator's explicit request."""
    statuses = [s for s in (statuses or Recipient.REQUEUEABLE) if s in Recipient.REQUEUEABLE]
    execution = Execution.objects.select_for_update().select_related("campaign").get(id=execution.id)
    if execution.status not in (*Execution.LIVE, Execution.Status.COMPLETED):
        raise ValidationError({"status": _("A cancelled or failed execution cannot be re-queued.")})
    moved = advance_recipients(
        Recipient.objects.filter(execution=execution, status__in=statuses),
        Recipient.Status.PENDING,
        next_attempt_at=clock_now(),
        lease_expires_at=None,
        error="",
        retry_count=0,
    )
    if moved and execution.status == Execution.Status.COMPLETED:
        execution.transition(
            Execution.Status.RUNNING, source=Execution.Status.COMPLETED, completed_at=None, heartbeat_at=None
        )
    if moved:
        log(
            campaign=execution.campaign,
            execution=execution,
            type=CampaignLog.Type.RECIPIENTS_REQUEUED,
            message=_("%(n)d recipient(s) re-queued.") % {"n": moved},
            details={"statuses": statuses},
        )
        from campaigns.tasks import queue_dispatch

        transaction.on_commit(lambda: queue_dispatch(execution.id, fan_out=True))
    return moved


@transaction.atomic
def pause_campaign(*, campaign: Campaign, user=None) -> int:
    campaign.transition(Campaign.Status.PAUSED)
    executions = campaign.executions.filter(status__in=[Execution.Status.QUEUED, Execution.Status.RUNNING])
    return sum(pause_execution(execution=e, reason=Execution.PauseReason.CAMPAIGN, user=user) for e in executions)


@transaction.atomic
def resume_campaign(*, campaign: Campaign, user=None) -> int:
    campaign.transition(Campaign.Status.ACTIVE)
    executions = campaign.executions.filter(status=Execution.Status.PAUSED).filter(
        Q(pause_reason=Execution.PauseReason.CAMPAIGN) | Q(pause_reason=Execution.PauseReason.OPERATOR)
    )
    return sum(resume_execution(execution=e, user=user) for e in executions)


@transaction.atomic
def cancel_campaign(*, campaign: Campaign, user=None) -> int:
    executions = campaign.executions.filter(status__in=Execution.LIVE)
    return sum(cancel_execution(execution=e, user=user) for e in executions)


def audience_size(*, campaign: Campaign) -> int:
    return audience.audience_queryset(
        organization=campaign.organization,
        audience_type=campaign.audience_type,
        audience_config=campaign.audience_config,
    ).count()


# Reactions to other apps' signals (wired in CampaignsConfig.ready) -------------------


def instance_connection_changed(*, instance, new_state: str, reason: str = "") -> int:
    """A closed number pauses the executions that have no other number; reopening resumes them."""
    from campaigns.dispatch import usable_instances

    executions = Execution.objects.filter(campaign__campaign_instances__instance=instance).select_related("campaign")
    changed = 0
    if new_state == "close":
        for execution in executions.filter(status__in=[Execution.Status.QUEUED, Execution.Status.RUNNING]):
            log(
                campaign=execution.campaign,
                execution=execution,
                instance=instance,
                type=CampaignLog.Type.INSTANCE_DISCONNECTED,
                severity=CampaignLog.Severity.CRITICAL,
                message=_("%(name)s disconnected: %(reason)s") % {"name": instance.name, "reason": reason or "-"},
            )
            if not usable_instances(execution.campaign):
                detail = _("%(name)s disconnected (%(reason)s).") % {"name": instance.name, "reason": reason or "-"}
                if execution.status == Execution.Status.QUEUED:
                    execution.transition(
                        Execution.Status.RUNNING, source=Execution.Status.QUEUED, started_at=clock_now()
                    )
                changed += pause_execution(
                    execution=execution, reason=Execution.PauseReason.INSTANCE_DISCONNECTED, detail=detail
                )
    elif new_state == "open":
        paused = executions.filter(
            status=Execution.Status.PAUSED, pause_reason=Execution.PauseReason.INSTANCE_DISCONNECTED
        )
        for execution in paused:
            log(
                campaign=execution.campaign,
                execution=execution,
                instance=instance,
                type=CampaignLog.Type.INSTANCE_RECONNECTED,
                message=_("%(name)s is connected again.") % {"name": instance.name},
            )
            changed += resume_execution(execution=execution)
    return changed


def conversation_completed(*, conversation) -> int:
    """The recipient whose conversation reached the end of the flow is `completed`."""
    return advance_recipients(Recipient.objects.filter(conversation_id=conversation.id), Recipient.Status.COMPLETED)
