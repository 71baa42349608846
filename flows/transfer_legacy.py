"""The old chatbot's export document, read and written beside the project's own.

Its shape: `{"template": {…}, "flows": [{…, "subflows": [{…, "messages": [{…}]}]}]}` with
the old field names (`message_text`, `parent_subflow_id`, `template_id`, `flow_id`,
`subflow_id`) and each row's id. Import converts it into the project's document
(`flows.transfer`) and imports that in one transaction, naming the new template
`Imported - <name>` as the old system did. Columns the project does not model
(`created_at`, `created_by`, counts, …) are ignored; a known field with a bad value is a
`TransferError` whose path names the old field (`flows[0].subflows[1].parent_subflow_id`).
"""

import re

from flows.models import FlowTemplate
from flows.transfer import FLOW_FIELDS, FORMAT, MESSAGE_FIELDS, SUBFLOW_FIELDS, TransferError, import_template

IMPORTED_PREFIX = "Imported - "
_NAME_MAX = FlowTemplate._meta.get_field("name").max_length


def is_legacy(document) -> bool:
    return isinstance(document, dict) and "format" not in document and "flows" in document and "template" in document


def export_legacy(template: FlowTemplate) -> dict:
    flows = []
    for flow in template.flows.order_by("order_index", "id"):
        subflows = []
        for subflow in flow.subflows.order_by("order_index", "id"):
            messages = [
                {
                    "id": message.id,
                    "subflow_id": subflow.id,
                    "message_text": message.text,
                    **{name: getattr(message, name) for name in MESSAGE_FIELDS if name != "text"},
                }
                for message in subflow.messages.order_by("order_index", "id")
            ]
            subflows.append(
                {
                    "id": subflow.id,
                    "flow_id": flow.id,
                    "parent_subflow_id": subflow.parent_id,
                    **{name: getattr(subflow, name) for name in SUBFLOW_FIELDS},
                    "messages": messages,
                }
            )
        flows.append(
            {
                "id": flow.id,
                "template_id": template.id,
                **{name: getattr(flow, name) for name in FLOW_FIELDS},
                "subflows": subflows,
            }
        )
    return {
        "template": {
            "id": template.id,
            "name": template.name,
            "description": template.description,
            "is_active": template.is_active,
            "created_at": template.created_at.isoformat() if template.created_at else None,
        },
        "flows": flows,
    }


def import_legacy(*, organization, document: dict, created_by=None) -> FlowTemplate:
    """A new template `Imported - <name>` from an old export; all or nothing."""
    converted = to_project_document(document)
    try:
        return import_template(organization=organization, document=converted, created_by=created_by)
    except TransferError as exc:
        raise TransferError(_legacy_path(exc.path), str(exc).split(": ", 1)[1]) from None


def to_project_document(document: dict) -> dict:
    template = document.get("template")
    if not isinstance(template, dict):
        raise TransferError("template", "must be an object")
    name = template.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TransferError("template.name", "must be a non-empty text")
    flows = document.get("flows")
    if not isinstance(flows, list):
        raise TransferError("flows", "must be a list")
    out_template = {
        "name": f"{IMPORTED_PREFIX}{name.strip()}"[:_NAME_MAX],
        **{key: template[key] for key in ("description", "is_active") if key in template},
        "flows": [],
    }
    for f_index, flow in enumerate(flows):
        path = f"flows[{f_index}]"
        if not isinstance(flow, dict):
            raise TransferError(path, "must be an object")
        subflows = flow.get("subflows", [])
        if not isinstance(subflows, list):
            raise TransferError(f"{path}.subflows", "must be a list")
        index_of = {}
        for s_index, subflow in enumerate(subflows):
            if not isinstance(subflow, dict):
                raise TransferError(f"{path}.subflows[{s_index}]", "must be an object")
            if subflow.get("id") is not None:
                index_of[str(subflow["id"])] = s_index
        out_subflows = []
        for s_index, subflow in enumerate(subflows):
            s_path = f"{path}.subflows[{s_index}]"
            parent = subflow.get("parent_subflow_id")
            if parent not in (None, "") and str(parent) not in index_of:
                raise TransferError(f"{s_path}.parent_subflow_id", "must be the id of a subflow of the same flow")
            messages = subflow.get("messages", [])
            if not isinstance(messages, list):
                raise TransferError(f"{s_path}.messages", "must be a list")
            out_subflows.append(
                {
                    **_known(subflow, SUBFLOW_FIELDS),
                    "parent": index_of[str(parent)] if parent not in (None, "") else None,
                    "messages": [_message(message, f"{s_path}.messages[{m}]") for m, message in enumerate(messages)],
                }
            )
        out_template["flows"].append({**_known(flow, FLOW_FIELDS), "subflows": out_subflows})
    return {"format": FORMAT, "template": out_template}


def _message(message, path: str) -> dict:
    if not isinstance(message, dict):
        raise TransferError(path, "must be an object")
    data = _known(message, MESSAGE_FIELDS)
    if "message_text" in message:
        data["text"] = message["message_text"]
    data.setdefault("wait_for_response", True)  # the old system's default
    return data


def _known(data: dict, names) -> dict:
    return {name: data[name] for name in names if name in data and data[name] is not None}


def _legacy_path(path: str) -> str:
    path = re.sub(r"^template\.flows", "flows", path)
    path = re.sub(r"\.text$", ".message_text", path)
    return re.sub(r"\.parent$", ".parent_subflow_id", path)
