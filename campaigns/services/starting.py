"""Starting a campaign: one execution, its recipients inserted set-wise, the dispatcher queued.

Also what a start reports beforehand or with it: the audience's size and the variables
its contacts leave empty.
"""

import dataclasses

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Value
from django.db.models.functions import JSONObject
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import audience, variables
from campaigns.models import Campaign, CampaignLog, Execution, Recipient
from campaigns.services.authoring import _check_contact_ids
from campaigns.services.controls import log
from campaigns.windows import now as clock_now
from config.db import update_rows


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
    check_startable(campaign, test_mode=test_mode)
    if not test_mode:
        live = campaign.executions.filter(status__in=Execution.LIVE).exclude(type=Execution.Type.TEST).count()
        check_live_limit(campaign, live=live, settings=settings, max_live=max_live)
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
        contacts = campaign_audience(campaign)
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


@dataclasses.dataclass
class Start:
    """One start of a batch (`begin_executions`): the arguments of `begin_execution` a schedule uses."""

    campaign_id: int
    trigger_event: str = ""
    settings: dict = dataclasses.field(default_factory=dict)
    max_live: int | None = None


def begin_executions(
    *, starts: list[Start], execution_type: str = Execution.Type.SCHEDULED
) -> list[Execution | ValidationError]:
    """Many `begin_execution`s inside the caller's transaction, in about ten statements for the batch.

    Each start gets what `begin_execution` would have given it, in order: its execution, or
    the ValidationError it would have raised (and nothing of it written). The same checks,
    audiences, variable snapshots, missing-variables reports, campaign activation and log
    rows, set-wise: the campaigns locked in one statement (their rows, in id order), their
    live executions counted in one, one aggregate row per audience in one UNION ALL, the
    executions, the recipients (one `INSERT … SELECT` of every audience's rows) and the log
    rows each inserted in one. One dispatcher task per execution, queued on commit.

    A database error propagates: the caller rolls back to its savepoint (and may start the
    batch one by one).
    """
    ids = sorted({start.campaign_id for start in starts})
    campaigns = {
        c.id: c
        for c in Campaign.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(id__in=ids)
        .order_by("id")
    }
    live = dict(
        Execution.objects.filter(campaign_id__in=ids, status__in=Execution.LIVE)
        .exclude(type=Execution.Type.TEST)
        .order_by()
        .values("campaign_id")
        .annotate(n=Count("id"))
        .values_list("campaign_id", "n")
    )
    outcomes: list = [None] * len(starts)
    plans = []
    for index, start in enumerate(starts):
        campaign = campaigns[start.campaign_id]
        try:
            check_startable(campaign)
            check_live_limit(
                campaign, live=live.get(campaign.id, 0), settings=start.settings or {}, max_live=start.max_live
            )
            contacts = campaign_audience(campaign)
            checks = variable_checks(campaign.variable_mapping)
        except ValidationError as error:
            outcomes[index] = error
            continue
        live[campaign.id] = live.get(campaign.id, 0) + 1
        plans.append((index, start, campaign, contacts, checks))
    if not plans:
        return outcomes
    reports = missing_variable_reports([(index, contacts, checks) for index, _s, _c, contacts, checks in plans])
    at = clock_now()
    executions = Execution.objects.bulk_create(
        [
            Execution(
                organization=campaign.organization,
                campaign=campaign,
                type=execution_type,
                trigger_event=start.trigger_event,
                settings=start.settings or {},
                errors=reports.get(index, []),
            )
            for index, start, campaign, _contacts, _checks in plans
        ]
    )
    selects = [
        recipient_rows(execution_id=execution.id, contacts=contacts, mapping=campaign.variable_mapping, at=at)
        for execution, (_i, _s, campaign, contacts, _c) in zip(executions, plans, strict=True)
    ]
    insert_recipient_rows(selects)
    totals = dict(
        Recipient.objects.filter(execution_id__in=[e.id for e in executions])
        .order_by()
        .values("execution_id")
        .annotate(n=Count("id"))
        .values_list("execution_id", "n")
    )
    for execution in executions:
        execution.total_recipients = totals.get(execution.id, 0)
    update_rows(Execution, ["total_recipients"], [(e.id, e.total_recipients) for e in executions if e.total_recipients])
    stamp_campaigns([campaign for _i, _s, campaign, _c, _k in plans], at=at)
    CampaignLog.objects.bulk_create(
        [
            CampaignLog(
                organization_id=execution.organization_id,
                campaign=execution.campaign,
                execution=execution,
                type=CampaignLog.Type.EXECUTION_STARTED,
                message=str(_("Execution started with %(n)d recipient(s).") % {"n": execution.total_recipients}),
                details={"test_mode": False},
            )
            for execution in executions
        ]
    )
    from campaigns.tasks import queue_dispatch

    ids = [execution.id for execution in executions]
    transaction.on_commit(lambda: [queue_dispatch(execution_id) for execution_id in ids])
    for execution, (index, *_rest) in zip(executions, plans, strict=True):
        outcomes[index] = execution
    return outcomes


# Bound parameters per statement of a batch (SQLite allows 32,766; PostgreSQL binds client-side).
MAX_BATCH_PARAMS = 30_000


def missing_variable_reports(audiences: list[tuple]) -> dict[int, list[dict]]:
    """`missing_variable_report` of many (key, contacts, checks) in one UNION ALL of aggregate rows."""
    queries = [
        contacts.order_by()
        .annotate(r_key=Value(key))
        .values("r_key")
        .annotate(r_counts=JSONObject(**missing_counts(checks)))
        .values_list("r_key", "r_counts")
        for key, contacts, checks in audiences
        if checks
    ]
    if not queries:
        return {}
    rows = queries[0].union(*queries[1:], all=True) if len(queries) > 1 else queries[0]
    checks_of = {key: checks for key, _contacts, checks in audiences}
    return {key: report_missing(checks_of[key], counts) for key, counts in rows}


def insert_recipient_rows(selects: list[tuple[str, tuple]]) -> None:
    """Insert every SELECT's recipient rows: `INSERT … SELECT … UNION ALL SELECT …`, as few statements as fit."""
    chunk, size = [], 0
    for select in selects + [None]:
        if select is None or (chunk and size + len(select[1]) > MAX_BATCH_PARAMS):
            sql = " UNION ALL ".join(part for part, _params in chunk)
            params = [param for _part, part_params in chunk for param in part_params]
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {Recipient._meta.db_table} ({', '.join(RECIPIENT_COLUMNS)}) {sql}", params)
            chunk, size = [], 0
        if select is not None:
            chunk.append(select)
            size += len(select[1])


def stamp_campaigns(campaigns: list[Campaign], *, at) -> None:
    """What a start writes on its campaign: activated (from draft or completed) and `last_executed_at`."""
    idle = {c.id for c in campaigns if c.status != Campaign.Status.ACTIVE}
    if idle:
        sources = [state for state, targets in Campaign.TRANSITIONS.items() if Campaign.Status.ACTIVE in targets]
        Campaign.objects.filter(id__in=idle, status__in=sources).update(
            status=Campaign.Status.ACTIVE, updated_at=timezone.now(), last_executed_at=at
        )
    active = {c.id for c in campaigns} - idle
    if active:
        Campaign.objects.filter(id__in=active).update(last_executed_at=at)
    for campaign in campaigns:
        campaign.status, campaign.last_executed_at = Campaign.Status.ACTIVE, at


def check_startable(campaign: Campaign, *, test_mode: bool = False) -> None:
    """The refusals of the campaign's own state (ValidationError), before anything is written."""
    if campaign.deleted_at or campaign.status == Campaign.Status.ARCHIVED:
        raise ValidationError({"status": _("This campaign is archived and cannot start.")})
    if campaign.status == Campaign.Status.PAUSED and not test_mode:
        raise ValidationError({"status": _("This campaign is paused: resume it before starting it again.")})


def check_live_limit(campaign: Campaign, *, live: int, settings: dict, max_live: int | None) -> None:
    limit = settings.get("max_concurrent_executions") or campaign.max_concurrent_executions
    limit = min(limit, max_live) if max_live else limit
    if live >= limit:
        raise ValidationError(
            {
                "max_concurrent_executions": _("Already %(live)d execution(s) running, the limit is %(max)d.")
                % {"live": live, "max": limit}
            }
        )


def campaign_audience(campaign: Campaign):
    return audience.audience_queryset(
        organization=campaign.organization,
        audience_type=campaign.audience_type,
        audience_config=campaign.audience_config,
    )


def insert_recipients(*, execution: Execution, contacts, mapping: dict, at) -> int:
    """One `INSERT … SELECT` from the audience query, variables resolved in SQL."""
    select_sql, params = recipient_rows(execution_id=execution.id, contacts=contacts, mapping=mapping, at=at)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {Recipient._meta.db_table} ({', '.join(RECIPIENT_COLUMNS)}) {select_sql}", params)
        return cursor.rowcount


RECIPIENT_COLUMNS = (
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
)


def recipient_rows(*, execution_id: int, contacts, mapping: dict, at) -> tuple[str, tuple]:
    """The SELECT of the execution's recipient rows (RECIPIENT_COLUMNS) from the audience query."""
    rows = (
        contacts.order_by()
        .annotate(
            r_execution=Value(execution_id),
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
    return rows.query.sql_with_params()


def missing_variable_report(*, contacts, mapping: dict) -> list[dict]:
    """How many recipients got an empty value for each variable field (one aggregate query)."""
    checks = variable_checks(mapping)
    if not checks:
        return []
    counts = contacts.order_by().aggregate(**missing_counts(checks))
    return report_missing(checks, counts)


def variable_checks(mapping: dict) -> dict[str, tuple]:
    """{alias: (variable name, field, position)} for each field the mapping reads (validates it)."""
    used = variables.fields_used(variables.validate_mapping(mapping))
    checks = {}
    for name, fields in used.items():
        for i, field in enumerate(fields):
            checks[f"m{len(checks)}"] = (name, field, i)
    return checks


def missing_counts(checks: dict) -> dict:
    return {alias: Count("id", filter=variables.missing_filter(field)) for alias, (_n, field, _i) in checks.items()}


def report_missing(checks: dict, counts: dict) -> list[dict]:
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
    return campaign_audience(campaign).count()
