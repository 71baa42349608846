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
from campaigns.windows import now as clock_now
from core.db import update_rows


@transaction.atomic
def start_campaign(**arguments) -> Execution:
    """Create the execution and its recipients, then queue the dispatcher on commit (see `Start`)."""
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
    """`start_campaign` inside the caller's transaction, without a savepoint of its own: a batch of one.

    Every refusal (a ValidationError) is raised before anything is written, so a caller
    that catches it may go on in the same transaction (the ticker does, once per start).
    The arguments are those of `Start`.
    """
    start = Start(
        campaign_id=campaign.id,
        execution_type=execution_type,
        trigger_event=trigger_event,
        settings=settings or {},
        max_live=max_live,
        user=user,
        test_mode=test_mode,
        test_contact_ids=test_contact_ids,
        contact_ids=contact_ids,
        extra_variables=extra_variables,
        fan_out=fan_out,
    )
    (outcome,) = begin_executions(starts=[start])
    if isinstance(outcome, ValidationError):
        raise outcome
    return outcome


@dataclasses.dataclass
class Start:
    """One start of a batch (`begin_executions`).

    `settings` are campaign settings this execution runs with instead (a schedule's
    `modify` exception), e.g. {"rate_limit_per_hour": 3000}; `max_live` a lower limit of
    live executions than `max_concurrent_executions` (a schedule's overlap policy).
    `test_mode` sends to `test_contact_ids` only, outside the live limit and without
    activating the campaign. `contact_ids` replaces the campaign's audience (an inbound
    event starts it for one contact; opted-out and inactive contacts are still left out);
    `extra_variables` are added to every recipient's variables (an event's `{"event": data}`);
    `fan_out` queues CAMPAIGNS_DISPATCH_FAN_OUT dispatcher tasks instead of one (a manual
    start; the ticker starts many one-at-a-time executions and needs the workers itself).
    """

    campaign_id: int
    execution_type: str = Execution.Type.MANUAL
    trigger_event: str = ""
    settings: dict = dataclasses.field(default_factory=dict)
    max_live: int | None = None
    user: object = None
    test_mode: bool = False
    test_contact_ids: list | None = None
    contact_ids: list[int] | None = None
    extra_variables: dict | None = None
    fan_out: bool = False


def begin_executions(*, starts: list[Start]) -> list[Execution | ValidationError]:
    """Start many executions inside the caller's transaction, in about ten statements for the batch.

    Each start gets, in order, its execution or the ValidationError that refused it (and
    nothing of it written). The checks, audiences, variable snapshots, missing-variables
    reports, campaign activation and log rows run set-wise: the campaigns locked in one
    statement (their rows, in id order), their live executions counted in one, one
    aggregate row per audience in one UNION ALL, the executions, the recipients (one
    `INSERT … SELECT` of every audience's rows) and the log rows each inserted in one.
    The dispatcher is queued on commit.

    A database error propagates: the caller rolls back to its savepoint (and may start the
    batch one by one).
    """
    ids = sorted({start.campaign_id for start in starts})
    # The campaigns' rows only (`of`): FOR UPDATE over the join would lock the organization
    # too, and every start in that organization would wait for this transaction.
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
            check_startable(campaign, test_mode=start.test_mode)
            if not start.test_mode:
                check_live_limit(
                    campaign, live=live.get(campaign.id, 0), settings=start.settings or {}, max_live=start.max_live
                )
            contacts = start_audience(campaign, start)
            checks = variable_checks(campaign.variable_mapping)
            variables.check_flow_placeholders(campaign)
        except ValidationError as error:
            outcomes[index] = error
            continue
        if not start.test_mode:
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
                type=Execution.Type.TEST if start.test_mode else start.execution_type,
                triggered_by=start.user,
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
    inserted = insert_recipient_rows(selects)
    if len(executions) == 1:
        totals = {executions[0].id: inserted}  # a batch of one: the INSERT's row count is its total
    else:
        totals = dict(
            Recipient.objects.filter(execution_id__in=[e.id for e in executions])
            .order_by()
            .values("execution_id")
            .annotate(n=Count("id"))
            .values_list("execution_id", "n")
        )
    for execution, (_i, start, *_rest) in zip(executions, plans, strict=True):
        execution.total_recipients = totals.get(execution.id, 0)
        if start.extra_variables and execution.total_recipients:
            for recipient in Recipient.objects.filter(execution=execution).only("id", "variables"):
                Recipient.objects.filter(id=recipient.id).update(
                    variables={**recipient.variables, **start.extra_variables}
                )
    update_rows(Execution, ["total_recipients"], [(e.id, e.total_recipients) for e in executions if e.total_recipients])
    stamp_campaigns([(campaign, not start.test_mode) for _i, start, campaign, _c, _k in plans], at=at)
    CampaignLog.objects.bulk_create(
        [
            CampaignLog(
                organization_id=execution.organization_id,
                campaign=execution.campaign,
                execution=execution,
                type=CampaignLog.Type.EXECUTION_STARTED,
                message=str(_("Execution started with %(n)d recipient(s).") % {"n": execution.total_recipients}),
                details={"test_mode": start.test_mode},
            )
            for execution, (_i, start, *_rest) in zip(executions, plans, strict=True)
        ]
    )
    from campaigns.tasks import queue_dispatch  # enqueue on commit: the one edge up to the tasks

    queued = [(execution.id, start.fan_out) for execution, (_i, start, *_rest) in zip(executions, plans, strict=True)]
    transaction.on_commit(lambda: [queue_dispatch(execution_id, fan_out=fan_out) for execution_id, fan_out in queued])
    for execution, (index, *_rest) in zip(executions, plans, strict=True):
        outcomes[index] = execution
    return outcomes


def start_audience(campaign: Campaign, start: Start):
    """The contacts a start goes to: its test contacts, its own contact ids, or the campaign's audience."""
    if start.test_mode:
        ids = [int(i) for i in (start.test_contact_ids or []) if str(i).isdigit()]
        if not ids or len(ids) != len(start.test_contact_ids or []):
            raise ValidationError({"test_contact_ids": _("Test mode needs a list of contact ids.")})
        audience.check_contact_ids(campaign.organization, ids, field="test_contact_ids")
        return audience.reachable_contacts(campaign.organization).filter(id__in=ids)
    if start.contact_ids is not None:
        return audience.reachable_contacts(campaign.organization).filter(id__in=start.contact_ids)
    return campaign_audience(campaign)


# Bound parameters per statement of a batch (SQLite allows 32,766; PostgreSQL binds client-side).
MAX_BATCH_PARAMS = 30_000


def missing_variable_reports(audiences: list[tuple]) -> dict[int, list[dict]]:
    """How many recipients of each (key, contacts, checks) got an empty value for each variable field.

    One UNION ALL of aggregate rows, one per audience.
    """
    asked = [(key, contacts, checks) for key, contacts, checks in audiences if checks]
    if len(asked) == 1:  # one audience: a plain aggregate, cheaper to compile than the UNION's rows
        key, contacts, checks = asked[0]
        return {key: report_missing(checks, contacts.order_by().aggregate(**missing_counts(checks)))}
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


def insert_recipient_rows(selects: list[tuple[str, tuple]]) -> int:
    """Insert every SELECT's recipient rows: `INSERT … SELECT … UNION ALL SELECT …`, as few statements as fit.

    Returns how many rows were inserted.
    """
    chunk, size, inserted = [], 0, 0
    for select in selects + [None]:
        if select is None or (chunk and size + len(select[1]) > MAX_BATCH_PARAMS):
            sql = " UNION ALL ".join(part for part, _params in chunk)
            params = [param for _part, part_params in chunk for param in part_params]
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {Recipient._meta.db_table} ({', '.join(RECIPIENT_COLUMNS)}) {sql}", params)
                inserted += cursor.rowcount
            chunk, size = [], 0
        if select is not None:
            chunk.append(select)
            size += len(select[1])
    return inserted


def stamp_campaigns(started: list[tuple[Campaign, bool]], *, at) -> None:
    """What a start writes on its campaign: `last_executed_at`, and activated (from draft or completed)
    unless the (campaign, activate) pair says not (a test start)."""
    idle = {c.id for c, activate in started if activate and c.status != Campaign.Status.ACTIVE}
    if idle:
        sources = [state for state, targets in Campaign.TRANSITIONS.items() if Campaign.Status.ACTIVE in targets]
        Campaign.objects.filter(id__in=idle, status__in=sources).update(
            status=Campaign.Status.ACTIVE, updated_at=timezone.now(), last_executed_at=at
        )
    others = {c.id for c, _activate in started} - idle
    if others:
        Campaign.objects.filter(id__in=others).update(last_executed_at=at)
    for campaign, _activate in started:
        if campaign.id in idle:
            campaign.status = Campaign.Status.ACTIVE
        campaign.last_executed_at = at


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
