"""A choice (a prompt and its options) rendered the way each channel can show it.

- Numbered text (GOSAC, the sandbox, Evolution without polls): the prompt, then one
  line per option, `1. Label`; the contact answers with the number or the label.
- An Evolution poll (`POST /message/sendPoll/{instance}`): v2 takes `name`,
  `selectableCount` and `values`; v1 nests them under `pollMessage`. A vote comes back
  as the chosen labels, so labels must be unique (checked when the flow is saved).
- Meta's Cloud API interactive message (a description shows in lists only)
  (https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages,
  …/interactive-list-messages): up to 3 options as reply buttons (title ≤ 20 characters,
  id ≤ 256), else a list of up to 10 rows (title ≤ 24, description ≤ 72, id ≤ 200,
  button ≤ 20); the body is at most 1024 characters. A tap comes back with the id.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

CLOUD_MAX_BUTTONS = 3
CLOUD_MAX_ROWS = 10
CLOUD_BODY_MAX = 1024
CLOUD_BUTTON_TITLE_MAX = 20
CLOUD_BUTTON_ID_MAX = 256
CLOUD_ROW_TITLE_MAX = 24
CLOUD_ROW_DESCRIPTION_MAX = 72
CLOUD_ROW_ID_MAX = 200
CLOUD_LIST_BUTTON_MAX = 20


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class Choice:
    prompt: str
    options: tuple[Option, ...]
    list_button: str = ""


def numbered_text(choice: Choice) -> str:
    lines = [f"{number}. {option.label}" for number, option in enumerate(choice.options, start=1)]
    return "\n".join([choice.prompt, "", *lines]) if choice.prompt else "\n".join(lines)


def evolution_poll_body(choice: Choice, *, number: str, api_version: str) -> dict:
    poll = {"name": choice.prompt, "selectableCount": 1, "values": [o.label for o in choice.options]}
    if api_version == "v1":
        return {"number": number, "options": {"delay": 0}, "pollMessage": poll}
    return {"number": number, **poll}


def cloud_interactive(choice: Choice, *, to: str) -> dict:
    """The Cloud API `messages` body: reply buttons for up to 3 options, else a list."""
    if len(choice.options) <= CLOUD_MAX_BUTTONS:
        interactive = {
            "type": "button",
            "body": {"text": choice.prompt},
            "action": {
                "buttons": [{"type": "reply", "reply": {"id": o.key, "title": o.label}} for o in choice.options]
            },
        }
    else:
        rows = []
        for option in choice.options:
            row = {"id": option.key, "title": option.label}
            if option.description:
                row["description"] = option.description
            rows.append(row)
        interactive = {
            "type": "list",
            "body": {"text": choice.prompt},
            "action": {"button": choice.list_button or _("Options"), "sections": [{"rows": rows}]},
        }
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": interactive,
    }


def cloud_problems(choice: Choice) -> list[str]:
    """Meta's limits this choice breaks, each naming the option (empty when it renders on Cloud)."""
    problems = []
    count = len(choice.options)
    if count > CLOUD_MAX_ROWS:
        problems.append(_("A Cloud API list has at most %(n)d rows.") % {"n": CLOUD_MAX_ROWS})
    if len(choice.prompt) > CLOUD_BODY_MAX:
        problems.append(_("The prompt has more than %(n)d characters.") % {"n": CLOUD_BODY_MAX})
    if len(choice.list_button) > CLOUD_LIST_BUTTON_MAX:
        problems.append(_("The list button has more than %(n)d characters.") % {"n": CLOUD_LIST_BUTTON_MAX})
    buttons = count <= CLOUD_MAX_BUTTONS
    title_max = CLOUD_BUTTON_TITLE_MAX if buttons else CLOUD_ROW_TITLE_MAX
    id_max = CLOUD_BUTTON_ID_MAX if buttons else CLOUD_ROW_ID_MAX
    where = _("a button") if buttons else _("a list row")
    for number, option in enumerate(choice.options, start=1):
        name = {"n": number, "label": option.label, "where": where}
        if len(option.label) > title_max:
            problems.append(
                _('Option %(n)d "%(label)s": %(where)s title has at most %(max)d characters.')
                % {**name, "max": title_max}
            )
        if len(option.key) > id_max:
            problems.append(
                _('Option %(n)d "%(label)s": the id has at most %(max)d characters.') % {**name, "max": id_max}
            )
        if len(option.description) > CLOUD_ROW_DESCRIPTION_MAX:
            problems.append(
                _('Option %(n)d "%(label)s": the description has at most %(max)d characters.')
                % {**name, "max": CLOUD_ROW_DESCRIPTION_MAX}
            )
    return problems
