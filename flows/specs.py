"""The engine's view of a flow: frozen specs loaded from its rows, cached per process.

`flows.engine` decides from these alone; a spec is keyed by the flow's `content_version`,
which `flows.services.bump_flow_version` raises whenever a subflow or message changes.
"""

import threading
from collections import OrderedDict

from django.db.models import Prefetch

from flows import engine
from flows.choices import ChoiceSpec, OptionSpec
from flows.models import ChoiceStep, Flow, FlowMessage, Subflow

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
        Prefetch(
            "messages",
            queryset=FlowMessage.objects.filter(is_active=True)
            .select_related("choice")
            .prefetch_related("choice_options")
            .order_by("order_index", "id"),
        )
    )
    return engine.FlowSpec(
        id=flow_id,
        subflows=tuple(
            engine.SubflowSpec(
                id=subflow.id,
                parent_id=subflow.parent_id,
                keywords=tuple(subflow.trigger_keywords or ()),
                is_global=subflow.is_global,
                hands_off=subflow.hands_off,
                messages=tuple(message_spec(m) for m in subflow.messages.all()),
            )
            for subflow in subflows.order_by("order_index", "id")
        ),
    )


def message_spec(message: FlowMessage) -> engine.MessageSpec:
    texts = tuple(t for t in [message.text, *(message.variations or [])] if t.strip()) or ("",)
    wait = engine.WAIT_REPLY if message.wait_for_response else engine.WAIT_FILE if message.wait_for_file else ""
    choice = choice_spec(message)
    if choice is not None:
        wait = engine.WAIT_CHOICE
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
        choice=choice,
    )


def choice_spec(message: FlowMessage) -> ChoiceSpec | None:
    """The message's options and choice settings; None when it has no options."""
    options = sorted(message.choice_options.all(), key=lambda o: (o.order_index, o.id))
    if not options:
        return None
    try:
        step = message.choice
    except ChoiceStep.DoesNotExist:
        step = ChoiceStep()
    return ChoiceSpec(
        options=tuple(OptionSpec(o.key, o.label, o.description, o.target_subflow_id) for o in options),
        other_subflow_id=step.other_subflow_id,
        max_reprompts=step.max_reprompts,
        reprompt_text=step.reprompt_text,
        list_button=step.list_button,
    )
