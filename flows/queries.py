"""Reads of the flows app: the engine's flow specs (cached per process), conversations."""

import threading
from collections import OrderedDict

from django.db.models import Count, F, Prefetch, Q

from flows import engine
from flows.models import Conversation, Flow, FlowMessage, FlowTemplate, Subflow

_SPEC_CACHE_SIZE = 256
_spec_cache: OrderedDict = OrderedDict()
_spec_lock = threading.Lock()


def flow_spec(flow: Flow) -> engine.FlowSpec:
    """The engine's view of `flow`, cached by (id, content_version): editing a subflow or message bumps it."""
    cache_key = (flow.id, flow.content_version)
    with _spec_lock:
        spec = _spec_cache.get(cache_key)
        if spec is not None:
            _spec_cache.move_to_end(cache_key)
            return spec
    spec = load_flow_spec(flow.id)
    with _spec_lock:
        _spec_cache[cache_key] = spec
        while len(_spec_cache) > _SPEC_CACHE_SIZE:
            _spec_cache.popitem(last=False)
    return spec


def load_flow_spec(flow_id: int) -> engine.FlowSpec:
    subflows = Subflow.objects.filter(flow_id=flow_id, is_active=True).prefetch_related(
        Prefetch("messages", queryset=FlowMessage.objects.filter(is_active=True).order_by("order_index", "id"))
    )
    return engine.FlowSpec(
        id=flow_id,
        subflows=tuple(
            engine.SubflowSpec(
                id=subflow.id,
                parent_id=subflow.parent_id,
                keywords=tuple(subflow.trigger_keywords or ()),
                messages=tuple(message_spec(m) for m in subflow.messages.all()),
            )
            for subflow in subflows.order_by("order_index", "id")
        ),
    )


def message_spec(message: FlowMessage) -> engine.MessageSpec:
    texts = tuple(t for t in [message.text, *(message.variations or [])] if t.strip()) or ("",)
    wait = engine.WAIT_REPLY if message.wait_for_response else engine.WAIT_FILE if message.wait_for_file else ""
    return engine.MessageSpec(
        id=message.id,
        subflow_id=message.subflow_id,
        message_type=message.message_type,
        texts=texts,
        media_url=message.media_url,
        wait=wait,
        expected_file_types=tuple(message.expected_file_types or ()),
        reprompt_text=message.reprompt_text,
        variable_name=message.variable_name,
        delay_seconds=message.delay_seconds,
        action=message.action,
        action_config=dict(message.action_config or {}) if message.action else {},
        on_error_subflow_id=message.on_error_subflow_id,
    )


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
