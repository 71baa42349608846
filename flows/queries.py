"""Reads of the flows app: the default flow, conversations, the lists of the API and admin."""

from django.db.models import Count, F, Q

from flows.models import Conversation, Flow, FlowTemplate


def default_flow(*, organization_id: int) -> Flow | None:
    """The flow that answers contacts without an active conversation (first active default flow)."""
    return (
        Flow.objects.filter(
            template__organization_id=organization_id, template__is_active=True, is_default=True, is_active=True
        )
        .order_by("template_id")
        .first()
    )


def active_conversation(*, contact_id: int, instance_id: int) -> Conversation | None:
    return (
        Conversation.objects.select_related("flow", "contact", "instance")
        .filter(contact_id=contact_id, instance_id=instance_id, status=Conversation.Status.ACTIVE)
        .first()
    )


def templates_with_counts(queryset=None):
    queryset = FlowTemplate.objects.all() if queryset is None else queryset
    return queryset.annotate(
        flow_count=Count("flows", distinct=True),
        active_flows_count=Count("flows", filter=Q(flows__is_active=True), distinct=True),
    ).order_by("name", "id")


def conversations_with_names(queryset=None):
    queryset = Conversation.objects.all() if queryset is None else queryset
    return queryset.select_related("contact", "instance", "flow__template", "subflow", "current_message").annotate(
        template_name=F("flow__template__name")
    )


def action_runs_of(*, conversation: Conversation):
    """The integration runs the conversation's action steps asked for, newest first."""
    from integrations.models import ActionRun

    return ActionRun.objects.filter(reference=f"conversation:{conversation.id}").select_related("integration")
