"""Who a campaign goes to: `audience_type` + `audience_config` → a Contact queryset.

- custom:  {"contact_ids": [1, 2, 3]}
- all:     {}
- tags:    {"tags": ["vip", "sp"], "match": "any"}     ("all" = must have every tag)
- segment: {"segment": <condition>} where a condition is one of
      {"all": [<condition>, ...]}   every one holds
      {"any": [<condition>, ...]}   at least one holds
      {"not": <condition>}
      {"field": F, "op": OP, "value": V}
  F is name, email, phone, created_at, last_interaction_at, tag or custom_fields.KEY;
  OP is eq, ne, contains, icontains, startswith, in, gt, gte, lt, lte, exists (value
  true/false: the field is set and not empty). E.g. customers with 100+ points in SP:
      {"all": [{"field": "custom_fields.points", "op": "gte", "value": 100},
               {"field": "custom_fields.state", "op": "eq", "value": "SP"}]}
  Comparisons on custom fields compare numbers when the value given is a number; a
  contact whose field does not hold a number (text such as "muitos", a list, more than
  30 digits) does not match such a comparison.

Only active contacts that have not opted out are ever included.
"""

from django.core.exceptions import ValidationError
from django.db.models import Case, Exists, FloatField, OuterRef, Q, QuerySet, TextField, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.db.models.lookups import Regex
from django.utils.translation import gettext as _

from contacts.models import Contact

PLAIN_FIELDS = ("name", "email", "phone", "created_at", "last_interaction_at")
OPERATORS = ("eq", "ne", "contains", "icontains", "startswith", "in", "gt", "gte", "lt", "lte", "exists")
LOOKUP = {"contains": "contains", "icontains": "icontains", "startswith": "startswith", "in": "in"}
COMPARISON = ("gt", "gte", "lt", "lte")
MAX_DEPTH = 8
# What a custom field must look like to be compared as a number. Digits are bounded so the
# cast can neither fail nor overflow (PostgreSQL raises on bad float text, SQLite reads 0).
NUMBER = r"^\s*[-+]?([0-9]{1,30}(\.[0-9]{0,30})?|\.[0-9]{1,30})([eE][-+]?[0-9]{1,2})?\s*$"


def reachable_contacts(organization) -> QuerySet[Contact]:
    return Contact.objects.filter(organization=organization, is_active=True, opted_out_at__isnull=True)


def audience_queryset(*, organization, audience_type: str, audience_config: dict) -> QuerySet[Contact]:
    """The contacts a start would create recipients for (validates the config)."""
    config = audience_config or {}
    contacts = reachable_contacts(organization)
    if audience_type == "all":
        return contacts
    if audience_type == "custom":
        return contacts.filter(id__in=contact_ids_of(config))
    if audience_type == "tags":
        return contacts.filter(tags_filter(organization, config))
    if audience_type == "segment":
        if "segment" not in config:
            raise ValidationError({"audience_config": _('A segment audience needs {"segment": {...}}.')})
        annotations: dict = {}
        condition = compile_condition(config["segment"], "segment", annotations, 0)
        return contacts.alias(**annotations).filter(condition)
    raise ValidationError({"audience_type": _("Unknown audience type %(type)r.") % {"type": audience_type}})


def contact_ids_of(config: dict) -> list[int]:
    ids = config.get("contact_ids")
    if not isinstance(ids, list) or not ids:
        raise ValidationError({"audience_config": _("contact_ids must be a non-empty list of contact ids.")})
    try:
        return [int(value) for value in ids]
    except (TypeError, ValueError):
        raise ValidationError({"audience_config": _("contact_ids must hold contact ids only.")}) from None


def tags_filter(organization, config: dict) -> Q:
    names, match = config.get("tags"), config.get("match", "any")
    if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
        raise ValidationError({"audience_config": _("tags must be a non-empty list of tag names.")})
    if match not in ("any", "all"):
        raise ValidationError({"audience_config": _('match must be "any" or "all".')})
    through = Contact.tags.through
    if match == "any":
        return Q(Exists(through.objects.filter(contact_id=OuterRef("id"), tag__name__in=names)))
    condition = Q()
    for name in names:
        condition &= Q(Exists(through.objects.filter(contact_id=OuterRef("id"), tag__name=name)))
    return condition


def compile_condition(node, path: str, annotations: dict, depth: int) -> Q:
    """A segment condition → Q; errors name the path, e.g. segment.all[1].op."""
    if depth > MAX_DEPTH:
        raise _error(path, _("Nested too deep."))
    if not isinstance(node, dict):
        raise _error(path, _("Must be an object."))
    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        children = node[key]
        if not isinstance(children, list) or not children:
            raise _error(f"{path}.{key}", _("Must be a non-empty list."))
        compiled = [
            compile_condition(child, f"{path}.{key}[{i}]", annotations, depth + 1) for i, child in enumerate(children)
        ]
        result = compiled[0]
        for q in compiled[1:]:
            result = (result & q) if key == "all" else (result | q)
        return result
    if "not" in node:
        return ~compile_condition(node["not"], f"{path}.not", annotations, depth + 1)
    return _compile_leaf(node, path, annotations)


def _compile_leaf(node: dict, path: str, annotations: dict) -> Q:
    field, op, value = node.get("field"), node.get("op", "eq"), node.get("value")
    if op not in OPERATORS:
        raise _error(f"{path}.op", _("Unknown operator %(op)r; use one of %(ops)s.") % {"op": op, "ops": OPERATORS})
    if op == "in" and not isinstance(value, list):
        raise _error(f"{path}.value", _("The in operator needs a list."))
    if field == "tag":
        exists = Q(Exists(Contact.tags.through.objects.filter(contact_id=OuterRef("id"), tag__name=value)))
        if op not in ("eq", "ne"):
            raise _error(f"{path}.op", _("Tags support eq and ne only."))
        return exists if op == "eq" else ~exists
    if field in PLAIN_FIELDS:
        target = field
    elif isinstance(field, str) and field.startswith("custom_fields.") and len(field) > len("custom_fields."):
        key = field.split(".", 1)[1]
        target = f"_cf{len(annotations)}"
        numeric = op in COMPARISON and isinstance(value, int | float) and not isinstance(value, bool)
        if numeric:
            annotations[target] = as_number(custom_text(key))
        elif op == "exists":
            target = None
            has = Q(custom_fields__has_key=key) & ~Q(**{f"custom_fields__{key}": ""})
            has &= ~Q(**{f"custom_fields__{key}": None})
            return has if value is not False else ~has
        else:
            annotations[target] = custom_text(key)
            value = [str(v) for v in value] if isinstance(value, list) else str(value)
    else:
        raise _error(f"{path}.field", _("Unknown field %(field)r.") % {"field": field})
    if op == "exists":
        has = Q(**{f"{target}__isnull": False}) & ~Q(**{target: ""})
        return has if value is not False else ~has
    if op == "eq":
        return Q(**{target: value})
    if op == "ne":
        return ~Q(**{target: value})
    return Q(**{f"{target}__{LOOKUP.get(op, op)}": value})


def custom_text(key: str):
    """A custom field as plain text (a bare key transform compares JSON on SQLite, not text)."""
    return Cast(KeyTextTransform(key, "custom_fields"), TextField())


def as_number(text):
    """`text` as a float where it holds a number, else NULL (so no comparison matches)."""
    return Case(When(Regex(text, NUMBER), then=Cast(text, FloatField())), default=None, output_field=FloatField())


def _error(path: str, message: str) -> ValidationError:
    return ValidationError({"audience_config": f"{path}: {message}"})
