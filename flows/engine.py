"""The flow engine: given where a conversation is and what arrived, decide what to send next.

Pure: it reads frozen specs of a flow (see `flows.specs.flow_spec`) and returns a
`Decision`; `flows.services` stores it and `flows.sending` sends. The rules:

- A start goes to the first active message of the first active subflow (by order).
- Messages go out in order until one waits (for a reply or a file) or has a delay;
  a delayed message is scheduled with `continues`, and once it is sent the flow goes
  on from it (`after_delayed_send`). Past the last message of the subflow the flow
  ends and the conversation completes.
- Keywords, in one precedence (opt-out words come first, before the engine, in the
  webhooks' routing): a *global* subflow's keyword (`is_global`) jumps from any step,
  even a choice or a file wait; then a choice step's options; then the other subflows'
  keywords, which never jump back to the flow's entry subflow (they do not restart a
  running conversation).
- Waiting for a reply: a reply matching a subflow's keyword jumps to that subflow
  (children of the current subflow are tried first); otherwise the flow goes on in
  order. The reply is kept as `last_reply` and under the message's `variable_name`.
- Waiting for a file: text re-prompts; a file of an unexpected type is refused with
  a re-prompt; an accepted file is stored and the flow goes on.
- While a delayed message is pending, a keyword still jumps; anything else only
  lands in the history.
- An action step (a call to an integration) stops the flow like a wait: the decision
  carries an `ActionRequest` with its params rendered, and `after_action` goes on past
  it with the result's chosen fields as variables, or, when it failed, to its
  `on_error` subflow (past it, without one), with `last_action_error` set. While the
  action runs, a keyword still jumps (its late result is then ignored by the caller).
- A choice step (a message with options) waits for a choice: a reply that picks an
  option (`flows.choices.pick_option`) goes to the option's subflow (on in order
  without one); otherwise a subflow keyword still jumps; otherwise the options are
  sent again, up to the step's re-prompts, and then the reply takes the "other"
  branch (on in order without one). The picked option's id is kept as `last_choice`,
  its label as `last_reply` and under the message's `variable_name`.
- A waiting step (reply, file, choice) with a no-reply timer: when it fires,
  `after_timeout` goes to the timer's subflow (on in order without one).
"""

import random
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext as _

from flows.choices import ChoiceSpec, pick_option
from flows.text import accepts_file, file_kind, matches_any, placeholders, render

WAIT_REPLY = "reply"
WAIT_FILE = "file"
WAIT_DELAY = "delay"
WAIT_ACTION = "action"
WAIT_CHOICE = "choice"
# The unmatched replies a choice step has had so far (in the conversation's variables).
CHOICE_MISSES = "choice_misses"


@dataclass(frozen=True)
class MessageSpec:
    id: int
    subflow_id: int
    message_type: str = "text"
    texts: tuple[str, ...] = ("",)
    media_url: str = ""
    wait: str = ""
    expected_file_types: tuple[str, ...] = ()
    reprompt_text: str = ""
    variable_name: str = ""
    delay_seconds: int = 0
    action: str = ""
    action_config: dict = field(default_factory=dict)
    on_error_subflow_id: int | None = None
    choice: ChoiceSpec | None = None


@dataclass(frozen=True)
class SubflowSpec:
    id: int
    parent_id: int | None = None
    keywords: tuple[str, ...] = ()
    messages: tuple[MessageSpec, ...] = ()
    is_global: bool = False
    hands_off: bool = False


@dataclass(frozen=True)
class FlowSpec:
    id: int
    subflows: tuple[SubflowSpec, ...] = ()

    def subflow(self, subflow_id: int | None) -> SubflowSpec | None:
        return next((s for s in self.subflows if s.id == subflow_id), None)

    @property
    def entry(self) -> SubflowSpec | None:
        return next((s for s in self.subflows if s.messages), None)


@dataclass(frozen=True)
class Position:
    subflow_id: int
    message_id: int
    waiting: str = ""


@dataclass(frozen=True)
class Media:
    url: str = ""
    path: str = ""
    mimetype: str = ""
    filename: str = ""


@dataclass(frozen=True)
class Inbound:
    text: str = ""
    media: Media | None = None
    tap_id: str = ""
    poll_votes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outgoing:
    """A message to send: from the flow (`message`) or a system re-prompt (`message` None)."""

    text: str
    message: MessageSpec | None = None
    delay_seconds: int = 0
    continues: bool = False


@dataclass(frozen=True)
class ActionRequest:
    """The action step the flow stopped at, with its params rendered from the variables."""

    message: MessageSpec
    params: dict


@dataclass(frozen=True)
class Decision:
    outgoing: tuple[Outgoing, ...] = ()
    position: Position | None = None
    completed: bool = False
    variables: dict = field(default_factory=dict)
    accept_file: MessageSpec | None = None
    jumped_to: int | None = None
    reason: str = ""
    action: ActionRequest | None = None

    @property
    def changes_position(self) -> bool:
        return self.reason not in ("ignored", "reprompt", "wrong_file_type")


def start(flow: FlowSpec, variables: dict, rng: random.Random | None = None) -> Decision:
    entry = flow.entry
    if entry is None:
        return Decision(completed=True, variables=variables, reason="empty_flow")
    return replace(run_from(entry, 0, variables, rng), reason="started")


def after_delayed_send(flow: FlowSpec, position: Position, variables: dict, rng=None) -> Decision:
    """The delayed message at `position` went out: wait where it says, or go on after it."""
    subflow, index = _locate(flow, position)
    if subflow is None:
        return Decision(completed=True, variables=variables, reason="stale_position")
    message = subflow.messages[index]
    if message.wait:
        return Decision(position=Position(subflow.id, message.id, message.wait), variables=variables, reason="waiting")
    return replace(run_from(subflow, index + 1, variables, rng), reason="next")


def on_inbound(flow: FlowSpec, position: Position, inbound: Inbound, variables: dict, rng=None) -> Decision:
    subflow, index = _locate(flow, position)
    if subflow is None:
        target = _keyword_target(flow, inbound.text, None)
        if target is not None:
            return _jump(target, variables, rng)
        return Decision(completed=True, variables=variables, reason="stale_position")
    message = subflow.messages[index]

    target = _global_target(flow, inbound.text)
    if target is not None:
        return _jump(target, variables, rng)

    # A choice whose options were removed while the contact was at it waits like a reply.
    if position.waiting == WAIT_REPLY or (position.waiting == WAIT_CHOICE and message.choice is None):
        variables = {**variables, "last_reply": inbound.text}
        if message.variable_name:
            variables[message.variable_name] = inbound.text
        target = _keyword_target(flow, inbound.text, subflow)
        if target is not None:
            return _jump(target, variables, rng)
        return replace(run_from(subflow, index + 1, variables, rng), reason="next")

    if position.waiting == WAIT_CHOICE and message.choice is not None:
        return _on_choice(flow, subflow, index, inbound, variables, rng)

    if position.waiting == WAIT_FILE:
        if inbound.media is None:
            text = message.reprompt_text or _("Please send the requested file.")
            return Decision(
                outgoing=(Outgoing(render(text, variables, context=f"re-prompt of message {message.id}")),),
                position=position,
                variables=variables,
                reason="reprompt",
            )
        extension, mimetype = file_kind(
            mimetype=inbound.media.mimetype,
            filename=inbound.media.filename,
            url=inbound.media.url or inbound.media.path,
        )
        if not accepts_file(message.expected_file_types, extension=extension, mimetype=mimetype):
            refusal = _("This type of file is not accepted. Please send: %(types)s.") % {
                "types": ", ".join(message.expected_file_types)
            }
            if message.reprompt_text:
                refusal = f"{refusal}\n{render(message.reprompt_text, variables)}"
            return Decision(
                outgoing=(Outgoing(refusal),), position=position, variables=variables, reason="wrong_file_type"
            )
        variables = {**variables, "last_file": inbound.media.url or inbound.media.path}
        if message.variable_name:
            variables[message.variable_name] = variables["last_file"]
        decision = run_from(subflow, index + 1, variables, rng)
        return replace(decision, accept_file=message, reason="file_accepted")

    target = _keyword_target(flow, inbound.text, subflow)
    if target is not None:
        return _jump(target, variables, rng)
    return Decision(position=position, variables=variables, reason="ignored")


def _on_choice(flow, subflow: SubflowSpec, index: int, inbound: Inbound, variables: dict, rng) -> Decision:
    message = subflow.messages[index]
    choice = message.choice
    option = pick_option(choice.options, text=inbound.text, tap_id=inbound.tap_id, poll_votes=inbound.poll_votes)
    variables = {**variables, "last_reply": inbound.text}
    misses = int(variables.pop(CHOICE_MISSES, 0) or 0)
    if option is not None:
        variables.update(last_reply=option.label, last_choice=option.key)
        if message.variable_name:
            variables[message.variable_name] = option.label
        return _branch(flow, flow.subflow(option.target_subflow_id), subflow, index, variables, rng, "chose")
    target = _keyword_target(flow, inbound.text, subflow)
    if target is not None:
        return _jump(target, variables, rng)
    if misses < choice.max_reprompts:
        prompt = render(message.texts[0], variables, context=f"choice {message.id}")
        again = choice.reprompt_text or _("Please choose one of the options.")
        text = f"{render(again, variables)}\n{prompt}" if prompt else render(again, variables)
        return Decision(
            outgoing=(Outgoing(text, message),),
            position=Position(subflow.id, message.id, WAIT_CHOICE),
            variables={**variables, CHOICE_MISSES: misses + 1},
            reason="reprompt",
        )
    return _branch(flow, flow.subflow(choice.other_subflow_id), subflow, index, variables, rng, "other")


def _branch(flow, target, subflow, index, variables, rng, reason) -> Decision:
    """To `target`'s first message, or on in order past the choice when it has none."""
    if target is not None and target.messages:
        return replace(run_from(target, 0, variables, rng), jumped_to=target.id, reason=reason)
    return replace(run_from(subflow, index + 1, variables, rng), reason=reason)


def run_from(
    subflow: SubflowSpec, index: int, variables: dict, rng=None, *, first_already_waited: bool = False
) -> Decision:
    """Messages from `index` on, up to the first that waits or has a delay, or to the end."""
    rng = rng or random
    outgoing = []
    messages = subflow.messages
    for i in range(index, len(messages)):
        message = messages[i]
        if message.action:
            request = ActionRequest(message, render_params(message.action_config.get("params", {}), variables, message))
            position = Position(subflow.id, message.id, WAIT_ACTION)
            return Decision(tuple(outgoing), position, variables=variables, action=request)
        text = render(rng.choice(message.texts), variables, context=f"flow message {message.id}")
        if message.delay_seconds and not (i == index and first_already_waited):
            outgoing.append(Outgoing(text, message, delay_seconds=message.delay_seconds, continues=True))
            return Decision(tuple(outgoing), Position(subflow.id, message.id, WAIT_DELAY), variables=variables)
        outgoing.append(Outgoing(text, message))
        if message.wait:
            return Decision(tuple(outgoing), Position(subflow.id, message.id, message.wait), variables=variables)
    return Decision(tuple(outgoing), None, completed=True, variables=variables, reason="completed")


def after_action(
    flow: FlowSpec, position: Position, variables: dict, *, succeeded: bool, result: dict, error: str = "", rng=None
) -> Decision:
    """The action at `position` ended: its outputs into variables and on, or to its on_error subflow."""
    subflow, index = _locate(flow, position)
    if subflow is None:
        return Decision(completed=True, variables=variables, reason="stale_position")
    message = subflow.messages[index]
    if succeeded:
        outputs = message.action_config.get("outputs", {}) or {}
        variables = {**variables, **{name: _pick(result, path) for name, path in outputs.items()}}
        variables.pop("last_action_error", None)
        return replace(run_from(subflow, index + 1, variables, rng), reason="action_succeeded")
    variables = {**variables, "last_action_error": error}
    target = flow.subflow(message.on_error_subflow_id)
    if target is not None and target.messages:
        return replace(run_from(target, 0, variables, rng), jumped_to=target.id, reason="action_failed")
    return replace(run_from(subflow, index + 1, variables, rng), reason="action_failed")


def after_timeout(flow: FlowSpec, position: Position, variables: dict, *, subflow_id: int | None, rng=None) -> Decision:
    """Nothing arrived in time at the waiting message at `position`: to `subflow_id`, or on in order."""
    subflow, index = _locate(flow, position)
    if subflow is None:
        return Decision(completed=True, variables=variables, reason="stale_position")
    variables = {key: value for key, value in variables.items() if key != CHOICE_MISSES}
    return _branch(flow, flow.subflow(subflow_id), subflow, index, variables, rng, "timed_out")


def render_params(value, variables: dict, message: MessageSpec):
    """Every text inside an action's params rendered from the variables (objects and lists walked)."""
    if isinstance(value, str):
        return render(value, variables, context=f"action of message {message.id}")
    if isinstance(value, dict):
        return {key: render_params(item, variables, message) for key, item in value.items()}
    if isinstance(value, list):
        return [render_params(item, variables, message) for item in value]
    return value


def _pick(result, path: str):
    """`row.Status` from {"row": {"Status": "enviado"}}; a missing field is empty."""
    value = result
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return ""
    return "" if value is None else value


def _jump(target: SubflowSpec, variables: dict, rng) -> Decision:
    return replace(run_from(target, 0, variables, rng), jumped_to=target.id, reason="keyword")


def _keyword_target(flow: FlowSpec, text: str, current: SubflowSpec | None) -> SubflowSpec | None:
    if not text:
        return None
    candidates = [s for s in flow.subflows if current is not None and s.parent_id == current.id]
    candidates += [s for s in flow.subflows if s not in candidates]
    # A running conversation is not restarted by a keyword that is not global.
    entry = flow.entry if current is not None else None
    candidates = [s for s in candidates if s.is_global or s is not entry]
    return next((s for s in candidates if s.keywords and s.messages and matches_any(text, s.keywords)), None)


def _global_target(flow: FlowSpec, text: str) -> SubflowSpec | None:
    if not text:
        return None
    return next((s for s in flow.subflows if s.is_global and s.messages and matches_any(text, s.keywords)), None)


def _locate(flow: FlowSpec, position: Position | None) -> tuple[SubflowSpec | None, int]:
    if position is None:
        return None, 0
    subflow = flow.subflow(position.subflow_id)
    if subflow is None:
        return None, 0
    for index, message in enumerate(subflow.messages):
        if message.id == position.message_id:
            return subflow, index
    return None, 0


# Variables every conversation has, or that the engine sets as it goes (see the module docstring).
BUILT_IN_VARIABLES = frozenset({"name", "phone", "contact", "last_reply", "last_file", "last_action_error"})


def unfilled_placeholders(flow: FlowSpec, given) -> list[tuple[MessageSpec, str]]:
    """The (message, placeholder) pairs of `flow` whose variable nothing fills.

    Filled are the built-in variables, `given` (a campaign's mapping), and what the flow
    itself sets: a step's `variable_name` and an action's `outputs`. A dotted name is
    checked by its first part (`{{contact.company}}`, `{{event.id}}`).
    """
    filled = set(BUILT_IN_VARIABLES) | set(given)
    messages = [message for subflow in flow.subflows for message in subflow.messages]
    for message in messages:
        filled.add(message.variable_name)
        filled.update((message.action_config.get("outputs") or {}).keys())
    unfilled = []
    for message in messages:
        texts = [*message.texts, message.reprompt_text, *_strings(message.action_config.get("params", {}))]
        for name in dict.fromkeys(name for text in texts for name in placeholders(text)):
            if name.split(".", 1)[0] not in filled:
                unfilled.append((message, name))
    return unfilled


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    return [text for item in value for text in _strings(item)] if isinstance(value, list) else []
