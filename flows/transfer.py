"""Export and import of a flow template as one JSON document.

The document names no database ids: a subflow's parent is the index of the parent
in its flow's `subflows` list, so export -> import -> export gives the same document.
Import is one transaction: any bad field rolls everything back and the error names
its path, e.g. `template.flows[0].subflows[1].messages[2].delay_seconds`. A choice step's
message carries `choice` (`flows.choice_design`), its `goto`/`other` subflows as indexes;
a waiting message with a no-reply timer carries `no_reply: {"after_minutes", "goto"}`.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, F, TextField

from flows.choice_design import OPTION_FIELDS, SETTINGS, choice_document, choice_problems, normalized, write_choice
from flows.models import Flow, FlowMessage, FlowTemplate, Subflow, WaitTimeout
from flows.models.timers import MAX_TIMEOUT_MINUTES

FORMAT = "whatsflow.flows/1"

TEMPLATE_FIELDS = ("name", "description", "is_active")
FLOW_FIELDS = ("name", "description", "is_default", "is_active", "order_index")
SUBFLOW_FIELDS = ("name", "description", "trigger_keywords", "is_global", "hands_off", "order_index", "is_active")
MESSAGE_FIELDS = (
    "message_type",
    "text",
    "variations",
    "media_url",
    "order_index",
    "wait_for_response",
    "wait_for_file",
    "expected_file_types",
    "reprompt_text",
    "variable_name",
    "delay_seconds",
    "action",
    "action_config",
    "is_active",
)


class TransferError(ValueError):
    """A bad document; `path` names the field."""

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(f"{path}: {message}")


def export_template(template: FlowTemplate) -> dict:
    flows = []
    for flow in template.flows.order_by("order_index", "id"):
        subflows = list(flow.subflows.order_by("order_index", "id"))
        index_of = {subflow.id: i for i, subflow in enumerate(subflows)}
        flows.append(
            {
                **_fields(flow, FLOW_FIELDS),
                "subflows": [
                    {
                        **_fields(subflow, SUBFLOW_FIELDS),
                        "parent": index_of.get(subflow.parent_id),
                        "messages": [
                            {
                                **_fields(message, MESSAGE_FIELDS),
                                **({"on_error": index_of.get(message.on_error_subflow_id)} if message.action else {}),
                                **_choice_export(message, index_of),
                                **_timeout_export(message, index_of),
                            }
                            for message in subflow.messages.order_by("order_index", "id")
                        ],
                    }
                    for subflow in subflows
                ],
            }
        )
    return {"format": FORMAT, "template": {**_fields(template, TEMPLATE_FIELDS), "flows": flows}}


def _choice_export(message: FlowMessage, index_of: dict) -> dict:
    document = choice_document(message)
    if document is None:
        return {}
    for option in document["options"]:
        option["goto"] = index_of.get(option["goto"].id) if option["goto"] else None
    document["other"] = index_of.get(document["other"].id) if document["other"] else None
    return {"choice": document}


def _timeout_export(message: FlowMessage, index_of: dict) -> dict:
    timeout = WaitTimeout.objects.filter(message=message).first()
    if timeout is None:
        return {}
    return {"no_reply": {"after_minutes": timeout.after_minutes, "goto": index_of.get(timeout.subflow_id)}}


def _timeout_import(message: FlowMessage, data, created: list, path: str) -> None:
    data = _object(data, path)
    if unknown := set(data) - {"after_minutes", "goto"}:
        raise TransferError(f"{path}.{sorted(unknown)[0]}", "is not a known field")
    minutes = data.get("after_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_TIMEOUT_MINUTES:
        raise TransferError(
            f"{path}.after_minutes", f"must be a whole number of minutes from 1 to {MAX_TIMEOUT_MINUTES}"
        )
    WaitTimeout.objects.create(
        message=message, after_minutes=minutes, subflow=_subflow_at(data.get("goto"), created, f"{path}.goto")
    )


def _choice_import(message: FlowMessage, data, created: list, path: str) -> None:
    data = _object(data, path)
    if unknown := set(data) - {"options", "other", *SETTINGS}:
        raise TransferError(f"{path}.{sorted(unknown)[0]}", "is not a known field")
    options = []
    for index, option in enumerate(_list(data.get("options", []), f"{path}.options")):
        option = _object(option, f"{path}.options[{index}]")
        if unknown := set(option) - {*OPTION_FIELDS, "goto"}:
            raise TransferError(f"{path}.options[{index}].{sorted(unknown)[0]}", "is not a known field")
        options.append({**option, "goto": _subflow_at(option.get("goto"), created, f"{path}.options[{index}].goto")})
    other = _subflow_at(data.get("other"), created, f"{path}.other")
    document = normalized({**data, "options": options, "other": other})
    if problems := choice_problems(message, document):
        field, problem = next(iter(problems.items()))
        raise TransferError(f"{path}.{field}" if field != "choice" else path, problem)
    write_choice(message, document)


def _subflow_at(index, created: list, path: str):
    if index is None:
        return None
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(created):
        raise TransferError(path, "must be the index of a subflow of the flow")
    return created[index]


def _fields(obj, names) -> dict:
    return {name: getattr(obj, name) for name in names}


@transaction.atomic
def import_template(*, organization, document, created_by=None) -> FlowTemplate:
    """Create a new template from `document`; raises TransferError naming the bad field's path."""
    if not isinstance(document, dict):
        raise TransferError("document", "must be a JSON object")
    if document.get("format") != FORMAT:
        raise TransferError("format", f"must be {FORMAT!r}")
    data = _object(document.get("template"), "template")
    template = FlowTemplate(
        organization=organization, created_by=created_by, **_take(data, TEMPLATE_FIELDS, "template")
    )
    _save(template, "template")
    for f_index, flow_data in enumerate(_list(data.get("flows", []), "template.flows")):
        flow_path = f"template.flows[{f_index}]"
        flow_data = _object(flow_data, flow_path)
        if flow_data.get("is_default") and template.flows.filter(is_default=True).exists():
            raise TransferError(f"{flow_path}.is_default", "only one flow of a template may be the default")
        flow = Flow(template=template, **_take(flow_data, FLOW_FIELDS, flow_path))
        _save(flow, flow_path)
        subflows_data = _list(flow_data.get("subflows", []), f"{flow_path}.subflows")
        created: list[Subflow] = []
        on_error: list[tuple[FlowMessage, object, str]] = []
        choices: list[tuple[FlowMessage, object, str]] = []
        timeouts: list[tuple[FlowMessage, object, str]] = []
        for s_index, subflow_data in enumerate(subflows_data):
            subflow_path = f"{flow_path}.subflows[{s_index}]"
            subflow_data = _object(subflow_data, subflow_path)
            subflow = Subflow(flow=flow, **_take(subflow_data, SUBFLOW_FIELDS, subflow_path))
            _save(subflow, subflow_path)
            created.append(subflow)
            for m_index, message_data in enumerate(_list(subflow_data.get("messages", []), f"{subflow_path}.messages")):
                message_path = f"{subflow_path}.messages[{m_index}]"
                message_data = _object(message_data, message_path)
                message = FlowMessage(subflow=subflow, **_take(message_data, MESSAGE_FIELDS, message_path))
                _save(message, message_path)
                if message_data.get("on_error") is not None:
                    on_error.append((message, message_data["on_error"], f"{message_path}.on_error"))
                if "choice" in message_data:
                    choices.append((message, message_data["choice"], f"{message_path}.choice"))
                if "no_reply" in message_data:
                    timeouts.append((message, message_data["no_reply"], f"{message_path}.no_reply"))
        for s_index, (subflow, subflow_data) in enumerate(zip(created, subflows_data, strict=True)):
            parent = subflow_data.get("parent")
            if parent is None:
                continue
            if isinstance(parent, bool) or not isinstance(parent, int) or not 0 <= parent < len(created):
                raise TransferError(
                    f"{flow_path}.subflows[{s_index}].parent", "must be the index of a subflow of the flow"
                )
            subflow.parent = created[parent]
            subflow.save(update_fields=["parent"])
        for message, target, path in on_error:
            if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < len(created):
                raise TransferError(path, "must be the index of a subflow of the flow")
            message.on_error_subflow = created[target]
            message.save(update_fields=["on_error_subflow"])
        for message, data, path in choices:
            _choice_import(message, data, created, path)
        for message, data, path in timeouts:
            _timeout_import(message, data, created, path)
        Flow.objects.filter(id=flow.id).update(content_version=F("content_version") + 1)
    return template


def _object(value, path: str) -> dict:
    if not isinstance(value, dict):
        raise TransferError(path, "must be an object")
    return value


def _list(value, path: str) -> list:
    if not isinstance(value, list):
        raise TransferError(path, "must be a list")
    return value


def _take(data: dict, names, path: str) -> dict:
    unknown = set(data) - set(names) - {"flows", "subflows", "messages", "parent", "on_error", "choice", "no_reply"}
    if unknown:
        raise TransferError(f"{path}.{sorted(unknown)[0]}", "is not a known field")
    return {name: data[name] for name in names if name in data}


def _save(obj, path: str) -> None:
    for field in obj._meta.concrete_fields:
        # An old export's `null` for an optional text (`description`) is the empty text.
        if field.blank and not field.null and isinstance(field, CharField | TextField):
            if getattr(obj, field.attname) is None:
                setattr(obj, field.attname, "")
    try:
        obj.full_clean(
            exclude=["template", "flow", "subflow", "organization", "parent", "on_error_subflow"],
            validate_constraints=False,
        )
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise TransferError(path if field == "__all__" else f"{path}.{field}", " ".join(messages)) from None
    obj.save()
