"""Variable mapping: `{"customer_name": "{{contact.name}}", "discount": "10%"}`.

A value is text in which `{{contact.name}}`, `{{contact.phone}}`, `{{contact.email}}`,
`{{contact.created_at}}`, `{{contact.last_interaction_at}}` (ISO 8601, UTC, to the second)
and `{{contact.custom_fields.KEY}}` are replaced by the contact's data; everything else
is kept as written. A missing field resolves to "" and is reported.

`{{contact.<column>}}` names a contact field or, failing that, a custom field of that name
(a CSV column imported as one): the old Flow Automation API's rule. A custom field no
contact has yet resolves empty like any other missing one, and the start's report says so.

The same mapping compiles to a database expression (`expression()`), so recipients of a
large audience get their variables in one `INSERT … SELECT`, and to Python (`resolve()`)
for the odd single contact.
"""

import re
from dataclasses import dataclass
from datetime import UTC

from django.core.exceptions import ValidationError
from django.db.models import CharField, Func, Q, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Concat, JSONObject
from django.utils.translation import gettext as _

CONTACT_FIELDS = ("name", "phone", "email", "created_at", "last_interaction_at")
TIME_FIELDS = ("created_at", "last_interaction_at")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
CUSTOM_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,100}$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Field:
    """A contact field a placeholder reads: `name`, or `custom_fields` with a key."""

    name: str
    key: str = ""
    column: bool = False  # written `contact.<key>`: a custom field, since no contact field has that name

    @property
    def label(self) -> str:
        if self.column:
            return f"contact.{self.key}"
        return f"contact.custom_fields.{self.key}" if self.key else f"contact.{self.name}"


def parse_field(path: str) -> Field:
    parts = path.split(".")
    if parts[0] == "contact" and len(parts) == 2 and parts[1] in CONTACT_FIELDS:
        return Field(parts[1])
    if parts[0] == "contact" and len(parts) == 2 and parts[1] != "custom_fields" and CUSTOM_KEY.match(parts[1]):
        return Field("custom_fields", parts[1], column=True)
    if parts[0] == "contact" and len(parts) == 3 and parts[1] == "custom_fields" and CUSTOM_KEY.match(parts[2]):
        return Field("custom_fields", parts[2])
    raise ValidationError(_unknown_message(path))


def _unknown_message(path: str) -> str:
    return _(
        "Unknown variable {{%(path)s}}: use contact.name, contact.phone, contact.email, contact.created_at, "
        "contact.custom_fields.KEY or contact.KEY for a custom field your contacts have."
    ) % {"path": path}


def split_template(text: str) -> list[str | Field]:
    """Literal text and fields, in order; raises ValidationError on bad syntax."""
    pieces: list[str | Field] = []
    position = 0
    for match in PLACEHOLDER.finditer(text):
        pieces.append(text[position : match.start()])
        pieces.append(parse_field(match.group(1)))
        position = match.end()
    pieces.append(text[position:])
    literal = "".join(piece for piece in pieces if isinstance(piece, str))
    if "{{" in literal or "}}" in literal:
        raise ValidationError(_("Unbalanced braces in %(text)r: write variables as {{contact.name}}.") % {"text": text})
    return [piece for piece in pieces if piece != ""]


def validate_mapping(mapping) -> dict[str, list[str | Field]]:
    """The parsed mapping, or ValidationError({"variable_mapping": {name: message}})."""
    if not isinstance(mapping, dict):
        raise ValidationError({"variable_mapping": _("Must be an object of variable name to text.")})
    parsed, errors = {}, {}
    for name, value in mapping.items():
        if not NAME.match(str(name)):
            errors[str(name)] = _("Variable names are letters, digits and _, e.g. customer_name.")
        elif not isinstance(value, str | int | float):
            errors[name] = _("Must be text, e.g. {{contact.name}} or 10%.")
        else:
            try:
                parsed[name] = split_template(str(value))
            except ValidationError as error:
                errors[name] = error.messages[0]
    if errors:
        raise ValidationError({"variable_mapping": [errors]})
    return parsed


def fields_used(parsed: dict[str, list]) -> dict[str, list[Field]]:
    return {name: [piece for piece in pieces if isinstance(piece, Field)] for name, pieces in parsed.items()}


class IsoSeconds(Func):
    """A timestamp as ISO 8601 text in UTC to the second, e.g. 2025-11-20T12:00:00+00:00."""

    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        # The format travels as a parameter: a literal `%` in the SQL breaks DEBUG's query logging on SQLite.
        clone = self.copy()
        clone.set_source_expressions([Value("%Y-%m-%dT%H:%M:%S+00:00"), *self.get_source_expressions()])
        return clone.as_sql(compiler, connection, function="strftime", **extra)


def iso_seconds(value) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def _field_expression(field: Field):
    if field.key:
        return Coalesce(Cast(KeyTextTransform(field.key, "custom_fields"), TextField()), Value(""))
    if field.name in TIME_FIELDS:
        return Coalesce(IsoSeconds(field.name), Value(""), output_field=TextField())
    return Coalesce(field.name, Value(""), output_field=CharField())


def expression(mapping: dict):
    """A JSON object expression over Contact rows: the resolved variables of each contact."""
    parsed = validate_mapping(mapping)
    if not parsed:
        return Value({}, output_field=_json_field())
    members = {}
    for name, pieces in parsed.items():
        parts = [Value(piece) if isinstance(piece, str) else _field_expression(piece) for piece in pieces]
        if not parts:
            members[name] = Value("")
        elif len(parts) == 1:
            members[name] = parts[0]
        else:
            members[name] = Concat(*parts, output_field=TextField())
    return JSONObject(**members)


def _json_field():
    from django.db.models import JSONField

    return JSONField()


def missing_filter(field: Field) -> Q:
    """Contacts for which `field` resolves empty."""
    if field.key:
        return (
            ~Q(custom_fields__has_key=field.key)
            | Q(**{f"custom_fields__{field.key}": None})
            | Q(**{f"custom_fields__{field.key}": ""})
        )
    if field.name in TIME_FIELDS:
        return Q(**{f"{field.name}__isnull": True})
    return Q(**{field.name: ""}) | Q(**{f"{field.name}__isnull": True})


def resolve(mapping: dict, contact) -> tuple[dict[str, str], list[str]]:
    """The variables for one contact, and the labels of the fields that were missing."""
    resolved, missing = {}, []
    for name, pieces in validate_mapping(mapping).items():
        text = []
        for piece in pieces:
            if isinstance(piece, str):
                text.append(piece)
                continue
            value = (contact.custom_fields or {}).get(piece.key) if piece.key else getattr(contact, piece.name)
            if piece.name in TIME_FIELDS and value is not None:
                value = iso_seconds(value)
            if value in (None, ""):
                missing.append(piece.label)
                value = ""
            text.append(str(value))
        resolved[name] = "".join(text)
    return resolved, missing


def check_flow_placeholders(campaign) -> None:
    """ValidationError({"flow": [...]}) naming each message of the campaign's flow with a placeholder nothing fills.

    Filled are the mapping's variables, `{{contact.<field>}}`, what the flow sets itself
    (`flows.engine.unfilled_placeholders`) and, for a webhook trigger, `{{event.…}}`.
    Such a placeholder would go out blank to every recipient.
    """
    from flows.engine import unfilled_placeholders
    from flows.specs import load_flow_spec

    given = set(campaign.variable_mapping or {})
    if campaign.trigger_type == "webhook":
        given.add("event")
    # Read fresh, not from the engine's per-process cache: two queries per start.
    unfilled = unfilled_placeholders(load_flow_spec(campaign.flow_id), given)
    if unfilled:
        raise ValidationError(
            {
                "flow": [
                    _(
                        "Flow message %(message)d uses {{%(name)s}}, which nothing fills: add %(name)s to "
                        "variable_mapping, use {{contact.<field>}}, or save a reply under that name."
                    )
                    % {"message": message.id, "name": name}
                    for message, name in unfilled
                ]
            }
        )
