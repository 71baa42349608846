"""Starting a campaign: one execution, its recipients inserted set-wise, the dispatcher queued.

Also what a start reports beforehand or with it: the audience's size and the variables
its contacts leave empty.
"""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Value
from django.utils.translation import gettext as _

from campaigns import audience, variables
from campaigns.models import Campaign, CampaignLog, Execution, Recipient
from campaigns.services.authoring import _check_contact_ids
from campaigns.services.controls import log
from campaigns.windows import now as clock_now


@transaction.atomic
def start_campaign(**arguments) -> Execution:
    """Create the execution and its recipients, then queue the dispatcher on commit (see `begin_execution`)."""
    return begin_execution(**arguments)


def begin_execution(
    *,
    campaign: Campaign,
    user=None,
    test_mode: bool = False,
    test_contact_ids: list | None = None,
    execution_type: str = Execution.Type.MANUAL,
    trigger_event: str = "",
    settings: dict | None = None,
    max_live: int | None = None,
    contact_ids: list[int] | None = None,
    extra_variables: dict | None = None,
    fan_out: bool = True,
) -> Execution:
    """`start_campaign` inside the caller's transaction, without a savepoint of its own.

    Every refusal (a ValidationError) is raised before anything is written, so a caller
    that catches it may go on in the same transaction (the ticker does, once per start).

    `settings` are campaign settings this execution runs with instead (a schedule's
    `modify` exception), e.g. {"rate_limit_per_hour": 3000}; `max_live` a lower limit of
    live executions than `max_concurrent_executions` (a schedule's overlap policy).
    `contact_ids` replaces the campaign's audience (an inbound event starts it for one
    contact; opted-out and inactive contacts are still left out); `extra_variables` are
    added to every recipient's variables (an event's `{"event": data}`); `fan_out`
    False queues one dispatcher task instead of CAMPAIGNS_DISPATCH_FAN_OUT (the ticker
    starts many one-at-a-time executions and needs the workers itself).
    """
    settings = settings or {}
    # The campaign's row only (`of`): FOR UPDATE over the join would lock the organization
    # too, and every start in that organization would wait for this transaction.
    campaign = Campaign.objects.select_for_update(of=("self",)).select_related("organization").get(id=campaign.id)
    if campaign.deleted_at or campaign.status == Campaign.Status.ARCHIVED:
        raise ValidationError({"status": _("This campaign is archived and cannot start.")})
    if campaign.status == Campaign.Status.PAUSED and not test_mode:
        raise ValidationError({"status": _("This campaign is paused: resume it before starting it again.")})
    if not test_mode:
        live = campaign.executions.filter(status__in=Execution.LIVE).exclude(type=Execution.Type.TEST).count()
        limit = settings.get("max_concurrent_executions") or campaign.max_concurrent_executions
        limit = min(limit, max_live) if max_live else limit
        if live >= limit:
            raise ValidationError(
                {
                    "max_concurrent_executions": _("Already %(live)d execution(s) running, the limit is %(max)d.")
                    % {"live": live, "max": limit}
                }
            )
    if test_mode:
        ids = [int(i) for i in (test_contact_ids or []) if str(i).isdigit()]
        if not ids or len(ids) != len(test_contact_ids or []):
            raise ValidationError({"test_contact_ids": _("Test mode needs a list of contact ids.")})
        _check_contact_ids(campaign.organization, ids, field="test_contact_ids")
        contacts = audience.reachable_contacts(campaign.organization).filter(id__in=ids)
        execution_type = Execution.Type.TEST
    elif contact_ids is not None:
        contacts = audience.reachable_contacts(campaign.organization).filter(id__in=contact_ids)
    else:
        contacts = audience.audience_queryset(
            organization=campaign.organization,
            audience_type=campaign.audience_type,
            audience_config=campaign.audience_config,
        )
    errors = missing_variable_report(contacts=contacts, mapping=campaign.variable_mapping)  # validates the mapping
    at = clock_now()
    execution = Execution.objects.create(
        organization=campaign.organization,
        campaign=campaign,
        type=execution_type,
        triggered_by=user,
        trigger_event=trigger_event,
        settings=settings,
        errors=errors,
    )
    total = insert_recipients(execution=execution, contacts=contacts, mapping=campaign.variable_mapping, at=at)
    if extra_variables and total:
        for recipient in Recipient.objects.filter(execution=execution).only("id", "variables"):
            Recipient.objects.filter(id=recipient.id).update(variables={**recipient.variables, **extra_variables})
    Execution.objects.filter(id=execution.id).update(total_recipients=total)
    execution.total_recipients = total
    activated = campaign.status != Campaign.Status.ACTIVE and not test_mode
    if not (activated and campaign.transition(Campaign.Status.ACTIVE, last_executed_at=at)):
        Campaign.objects.filter(id=campaign.id).update(last_executed_at=at)
    log(
        campaign=campaign,
        execution=execution,
        type=CampaignLog.Type.EXECUTION_STARTED,
        message=_("Execution started with %(n)d recipient(s).") % {"n": total},
        details={"test_mode": test_mode},
    )
    from campaigns.tasks import queue_dispatch

    transaction.on_commit(lambda: queue_dispatch(execution.id, fan_out=fan_out))
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


def audience_size(*, campaign: Campaign) -> int:
    return audience.audience_queryset(
        organization=campaign.organization,
        audience_type=campaign.audience_type,
        audience_config=campaign.audience_config,
    ).count()
