"""A choice step as a document: read it, check it, and write its rows.

The API, the flow import/export and the admin's check share this one shape:
    {"options": [{"key", "label", "description", "goto"}], "other": subflow,
     "max_reprompts": 2, "reprompt_text": "", "list_button": ""}
where `goto` and `other` are subflows (rows here; the callers map ids or indexes).
`choice_problems` answers `{path: message}` with paths such as `options[1].label`;
Meta's Cloud API limits are checked when the organization has a Cloud API number,
since a step of any flow may be sent through it.
"""

from django.db import transaction
from django.db.models import F
from django.utils.text import slugify
from django.utils.translation import gettext as _

from flows.models import ChoiceOption, ChoiceStep, Flow, FlowMessage
from flows.models.choices import MAX_REPROMPTS, option_problems
from instances.models import WhatsAppInstance
from instances.providers.choices import Choice, Option, cloud_problems

SETTINGS = ("max_reprompts", "reprompt_text", "list_button")
OPTION_FIELDS = ("key", "label", "description")
# Meta's Cloud API; the provider's value in WhatsAppInstance.provider.
CLOUD = "cloud"


def choice_document(message: FlowMessage) -> dict | None:
    """The step's document with its subflows as rows, or None when the message has no options."""
    options = list(message.choice_options.order_by("order_index", "id"))
    if not options:
        return None
    step = ChoiceStep.objects.filter(message=message).first() or ChoiceStep()
    return {
        "options": [{**{f: getattr(o, f) for f in OPTION_FIELDS}, "goto": o.target_subflow} for o in options],
        "other": step.other_subflow,
        **{name: getattr(step, name) for name in SETTINGS},
    }


def normalized(document: dict) -> dict:
    """Fill what may be left out: an option's key from its label, the settings' defaults."""
    options = []
    for number, option in enumerate(document.get("options") or [], start=1):
        option = dict(option)
        option["label"] = str(option.get("label") or "").strip()
        option["key"] = str(option.get("key") or slugify(option["label"])[:64] or number)
        option["description"] = str(option.get("description") or "")
        option.setdefault("goto", None)
        options.append(option)
    defaults = {"max_reprompts": 2, "reprompt_text": "", "list_button": "", "other": None}
    return {**defaults, **{k: v for k, v in document.items() if k in defaults}, "options": options}


def choice_problems(message: FlowMessage, document: dict) -> dict:
    """What is wrong with `document` as the choice of `message`, by path (empty when it can be saved)."""
    problems = {}
    if message.message_type != FlowMessage.Type.TEXT or message.wait_for_file or message.action:
        problems["choice"] = _("A choice step is a text message that neither waits for a file nor runs an action.")
    options = document["options"]
    flow_id = message.subflow.flow_id
    for index, option in enumerate(options):
        if not option["label"]:
            problems[f"options[{index}].label"] = _("Required.")
        elif len(option["label"]) > 100:
            problems[f"options[{index}].label"] = _("At most 100 characters.")
        if slugify(option["key"]) != option["key"] or len(option["key"]) > 64:
            problems[f"options[{index}].key"] = _("Letters, digits, - and _ only (at most 64).")
        if len(option["description"]) > 72:
            problems[f"options[{index}].description"] = _("At most 72 characters.")
        goto = option["goto"]
        if goto is not None and goto.flow_id != flow_id:
            problems[f"options[{index}].goto"] = _("Must be a subflow of the same flow.")
    if document["other"] is not None and document["other"].flow_id != flow_id:
        problems["other"] = _("Must be a subflow of the same flow.")
    reprompts = document["max_reprompts"]
    if isinstance(reprompts, bool) or not isinstance(reprompts, int) or not 0 <= reprompts <= MAX_REPROMPTS:
        problems["max_reprompts"] = _("A whole number from 0 to %(n)d.") % {"n": MAX_REPROMPTS}
    for name in ("reprompt_text", "list_button"):
        if not isinstance(document[name], str):
            problems[name] = _("Must be a text.")
    if problems:
        return problems
    if listed := option_problems(options):
        return {"options": " ".join(listed)}
    if WhatsAppInstance.objects.filter(organization_id=message.organization_id, provider=CLOUD).exists():
        choice = Choice(
            prompt=message.text,
            options=tuple(Option(o["key"], o["label"], o["description"]) for o in options),
            list_button=document["list_button"],
        )
        if listed := cloud_problems(choice):
            return {"options": " ".join(listed)}
    return {}


@transaction.atomic
def write_choice(message: FlowMessage, document: dict) -> None:
    """Replace the message's options and settings with a checked, normalized `document`."""
    ChoiceOption.objects.filter(message=message).delete()
    ChoiceOption.objects.bulk_create(
        ChoiceOption(
            message=message,
            order_index=index,
            target_subflow=option["goto"],
            **{f: option[f] for f in OPTION_FIELDS},
        )
        for index, option in enumerate(document["options"])
    )
    ChoiceStep.objects.update_or_create(
        message=message,
        defaults={"other_subflow": document["other"], **{name: document[name] for name in SETTINGS}},
    )
    bump(message)


def remove_choice(message: FlowMessage) -> None:
    ChoiceOption.objects.filter(message=message).delete()
    ChoiceStep.objects.filter(message=message).delete()
    bump(message)


def bump(message: FlowMessage) -> None:
    """The flow's cached spec is keyed by its content version: a changed step must raise it."""
    Flow.objects.filter(id=message.subflow.flow_id).update(content_version=F("content_version") + 1)
