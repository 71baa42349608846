"""The campaign admin's pages beyond Django's: live JSON endpoints and the page contexts.

Views are thin: they scope by the admin's own querysets (tenant rules included) and read
through `campaigns.live`.
"""

from django.conf import settings
from django.db.models import Count, Max
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from campaigns import live, queries
from campaigns.models import Campaign, Execution, Recipient

CAMPAIGN_ACTIONS = {
    Campaign.Status.DRAFT: ["start", "send_test"],
    Campaign.Status.ACTIVE: ["pause", "cancel", "send_test"],
    Campaign.Status.PAUSED: ["resume", "cancel", "send_test"],
    Campaign.Status.COMPLETED: ["start", "send_test"],
    Campaign.Status.ARCHIVED: [],
}
ACTION_LABELS = {
    "activate": (_("Go live"), "wf-primary"),
    "start": (_("Start…"), "wf-primary"),
    "pause": (_("Pause"), ""),
    "resume": (_("Resume"), "wf-primary"),
    "cancel": (_("Cancel"), "wf-danger"),
    "send_test": (_("Send a test…"), ""),
    "requeue": (_("Re-queue unknown and failed"), ""),
}
EXECUTION_ACTIONS = {
    Execution.Status.QUEUED: ["pause", "cancel"],
    Execution.Status.RUNNING: ["pause", "cancel"],
    Execution.Status.PAUSED: ["resume", "cancel"],
}
TOP_ERRORS = 10

BAR = (
    '<div style="display:flex;align-items:center;gap:.5rem;min-width:12rem">'
    '<div style="flex:1;background:#e5e7eb;border-radius:999px;height:.5rem;overflow:hidden">'
    '<div style="width:{}%;height:100%;background:#16a34a"></div></div><span>{}</span></div>'
)


def progress_bar(percent: float, text: str) -> str:
    return format_html(BAR, percent, text)


class LastExecutionProgress:
    """Attaches the progress of each listed campaign's last execution, in three queries for the page."""

    @staticmethod
    def attach(campaigns) -> None:
        ids = [campaign.id for campaign in campaigns]
        last = dict(
            Execution.objects.filter(campaign_id__in=ids)
            .exclude(type=Execution.Type.TEST)
            .order_by()
            .values("campaign_id")
            .annotate(last=Max("id"))
            .values_list("campaign_id", "last")
        )
        executions = Execution.objects.in_bulk(last.values())
        counts = live.counts_by_execution(last.values())
        for campaign in campaigns:
            execution = executions.get(last.get(campaign.id))
            campaign.last_execution = execution
            campaign.last_progress = live.progress(counts[execution.id]) if execution else None


def buttons(names) -> list[tuple]:
    return [(name, *ACTION_LABELS[name]) for name in names]


def campaign_actions(campaign: Campaign) -> list[str]:
    """A draft that starts on an inbound event goes live first (the events start it, not a button)."""
    names = CAMPAIGN_ACTIONS.get(campaign.status, [])
    if campaign.status == Campaign.Status.DRAFT and campaign.trigger_type == Campaign.TriggerType.WEBHOOK:
        return ["activate", *names]
    return names


def campaign_context(*, campaign: Campaign) -> dict:
    """The page counts nothing itself: its script fetches `live_url` at once, then polls it."""
    return {
        "live_url": reverse("admin:campaigns_campaign_live", args=[campaign.id]),
        "poll_seconds": settings.ADMIN_POLL_SECONDS,
        "campaign_actions": buttons(campaign_actions(campaign)),
        "next_run": next_run(campaign=campaign),
    }


def next_run(*, campaign: Campaign):
    runs = queries.next_scheduled_runs(organization_ids=[campaign.organization_id], campaign_id=campaign.id, limit=1)
    return runs[0]["at"] if runs else None


def execution_context(*, execution: Execution) -> dict:
    """As the campaign's: the counts arrive from `live_url` right after the page."""
    recipients = reverse("admin:campaigns_recipient_changelist")
    status_urls = {
        status: f"{recipients}?execution__id__exact={execution.id}&status__exact={status}"
        for status in Recipient.Status.values
    }
    # The funnel's steps link to the first status of each (the list filters by one status).
    status_urls.update({"total": f"{recipients}?execution__id__exact={execution.id}"})
    names = list(EXECUTION_ACTIONS.get(execution.status, []))
    if Recipient.objects.filter(execution=execution, status__in=Recipient.REQUEUEABLE).exists():
        names.append("requeue")
    return {
        "live_url": reverse("admin:campaigns_execution_live", args=[execution.id]),
        "poll_seconds": settings.ADMIN_POLL_SECONDS,
        "execution_actions": buttons(names),
        "recipients_url": status_urls["total"],
        "status_urls": status_urls,
        "status_rows": [(status, label, status_urls[status]) for status, label in Recipient.Status.choices],
        "error_lines": error_lines(execution=execution),
    }


def error_lines(*, execution: Execution) -> list[str]:
    """The execution's own errors, then its recipients' most frequent errors with their counts."""
    lines = [execution.error_message] if execution.error_message else []
    for entry in execution.errors or []:
        lines.append(entry.get("message") or str(entry) if isinstance(entry, dict) else str(entry))
    frequent = (
        Recipient.objects.filter(execution=execution, status__in=["failed", "unknown"])
        .exclude(error="")
        .order_by()
        .values_list("error")
        .annotate(n=Count("id"))
        .order_by("-n")[:TOP_ERRORS]
    )
    lines += [_("%(n)d recipient(s): %(error)s") % {"n": n, "error": error} for error, n in frequent]
    return lines


def campaign_live(model_admin, request, campaign_id):
    campaign = get_object_or_404(model_admin.get_queryset(request), pk=campaign_id)
    return JsonResponse(live.campaign_page(campaign=campaign))


def execution_live(model_admin, request, execution_id):
    execution = get_object_or_404(model_admin.get_queryset(request).select_related("campaign"), pk=execution_id)
    return JsonResponse(live.execution_page(execution=execution))


def audience_contacts(request):
    """Contacts matching `q` (name, or phone digits), of `organization` when given, for the audience picker."""
    from django.db.models import Q

    from accounts.queries import organization_ids_for
    from contacts.models import Contact

    q = (request.GET.get("q") or "").strip()[:100]
    contacts = Contact.objects.filter(is_active=True)
    if not request.user.is_superuser:
        contacts = contacts.filter(organization__in=organization_ids_for(request))
    organization = request.GET.get("organization", "")
    if organization.isdigit():
        contacts = contacts.filter(organization_id=int(organization))
    digits = "".join(c for c in q if c.isdigit())
    if len(q) < 2:
        return JsonResponse({"results": []})
    match = Q(name__icontains=q)
    if len(digits) >= 4:
        match |= Q(phone__contains=digits)
    found = contacts.filter(match).order_by("name", "id")[:20]
    return JsonResponse({"results": [{"id": c.id, "label": str(c)} for c in found]})


def cron_preview(request):
    """What a cron trigger would do: the expression in words and its next runs (the trigger editor asks)."""
    from django.core.exceptions import ValidationError

    from accounts.queries import organization_ids_for
    from campaigns.admin.schedule_forms import describe_cron, describe_runs
    from campaigns.schedules import triggers, validation

    campaigns = Campaign.objects.filter(deleted_at__isnull=True)
    if not request.user.is_superuser:
        campaigns = campaigns.filter(organization__in=organization_ids_for(request))
    campaign_id = request.GET.get("campaign", "")
    campaign = campaigns.filter(id=int(campaign_id)).first() if campaign_id.isdigit() else None
    try:
        zone = validation.parse_zone(request.GET.get("time_zone") or "America/Sao_Paulo", "time_zone")
        expression = validation.check_cron(request.GET.get("expression", "")[:200], "expression")
        plan = Campaign(
            pk=campaign.pk if campaign else None,
            organization_id=campaign.organization_id if campaign else None,
            trigger_type=Campaign.TriggerType.CRON,
            trigger_config={"expression": expression},
            time_zone=zone,
        )
        schedule = triggers.planned_schedule(plan)
    except ValidationError as error:
        return JsonResponse(error.message_dict, status=400)
    return JsonResponse(
        {
            "expression": expression,
            "description": describe_cron(expression),
            "next_runs": describe_runs(schedule) or str(_("none in the next two years")),
        }
    )
