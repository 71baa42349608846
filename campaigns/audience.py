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

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.db.models import Case, Exists, FloatField, OuterRef, Q, QuerySet, TextField, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.db.models.lookups import Regex
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from contacts.models import Contact

PLAIN_FIELDS = ("name", "email", "phone", "created_at", "last_interaction_at")
DATE_FIELDS = ("created_at", "last_interaction_at")
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
    config = {} if audience_config is None else audience_config
    if not isinstance(config, dict):
        raise ValidationError({"audience_config": _('Must be an object, e.g. {"contact_ids": [1, 2]}.')})
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
    if not isinstance(op, str) or op not in OPERATORS:
        raise _error(f"{path}.op", _("Unknown operator %(op)r; use one of %(ops)s.") % {"op": op, "ops": OPERATORS})
    if op == "in" and not isinstance(value, list):
        raise _error(f"{path}.value", _("The in operator needs a list."))
    if op == "exists" and value is not None and not isinstance(value, bool):
        raise _error(f"{path}.value", _("The exists operator takes true or false."))
    if not isinstance(field, str) or not _known_field(field):
        raise _error(f"{path}.field", _("Unknown field %(field)r.") % {"field": field})
    if "__" in field:
        raise _error(f"{path}.field", _("A field name must not contain __ (lookups are given as op)."))
    if field in DATE_FIELDS and op not in ("eq", "ne", "exists", *COMPARISON):
        raise _error(f"{path}.op", _("Dates support eq, ne, gt, gte, lt, lte and exists."))
    if op != "exists":
        value = _typed_value(field, op, value, f"{path}.value")
    if field == "tag":
        exists = Q(Exists(Contact.tags.through.objects.filter(contact_id=OuterRef("id"), tag__name=value)))
        if op not in ("eq", "ne"):
            raise _error(f"{path}.op", _("Tags support eq and ne only."))
        return exists if op == "eq" else ~exists
    if field in PLAIN_FIELDS:
        target = field
    else:
        key = field.split(".", 1)[1]
        target = f"_cf{len(annotations)}"
        numeric = op in COMPARISON and isinstance(value, int | float) and not isinstance(value, bool)
        if numeric:
            annotations[target] = as_number(custom_text(key))
        elif op == "exists":
            # The key is data, never a lookup path: `points__in` is a key like any other.
            annotations[target] = custom_text(key)
        else:
            annotations[target] = custom_text(key)
            value = [str(v) for v in value] if isinstance(value, list) else str(value)
    if op == "exists":
        has = Q(**{f"{target}__isnull": False}) & ~Q(**{target: ""})
        return has if value is not False else ~has
    if op == "eq":
        return Q(**{target: value})
    if op == "ne":
        return ~Q(**{target: value})
    return Q(**{f"{target}__{LOOKUP.get(op, op)}": value})


def _known_field(field: str) -> bool:
    return field in PLAIN_FIELDS or field == "tag" or (field.startswith("custom_fields.") and len(field) > 14)


def _typed_value(field: str, op: str, value, path: str):
    """`value` checked against what `field` holds; lists (for `in`) element by element."""
    if isinstance(value, list):
        if op != "in":
            raise _error(path, _("Only the in operator takes a list."))
        return [_typed_scalar(field, item, f"{path}[{i}]") for i, item in enumerate(value)]
    return _typed_scalar(field, value, path)


def _typed_scalar(field: str, value, path: str):
    if field in DATE_FIELDS:
        moment = parse_datetime(value) if isinstance(value, str) else None
        day = parse_date(value) if isinstance(value, str) and moment is None else None
        if moment is None and day is None:
            raise _error(path, _("Must be a date or date-time, e.g. 2025-01-31 or 2025-01-31T09:00:00-03:00."))
        if moment is None:
            moment = datetime.combine(day, time.min)
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    if field in PLAIN_FIELDS or field == "tag":
        if not isinstance(value, str):
            raise _error(path, _("Must be text."))
        return value
    if isinstance(value, dict | list) or value is None:
        raise _error(path, _("Must be text, a number or true/false."))
    return value


def custom_text(key: str):
    """A custom field as plain text (a bare key transform compares JSON on SQLite, not text)."""
    return Cast(KeyTextTransform(key, "custom_fields"), TextField())


def as_number(text):
    """`text` as a float where it holds a number, else NULL (so no comparison matches)."""
    return Case(When(Regex(text, NUMBER), then=Cast(text, FloatField())), default=None, output_field=FloatField())


def _error(path: str, message: str) -> ValidationError:
    return ValidationError({"audience_config": f"{path}: {message}"})


def check_contact_ids(organization, ids: list[int], field: str = "audience_config") -> None:
    """Refuse (naming `field`) the ids that are not contacts of the organization."""
    found = set(Contact.objects.filter(organization=organization, id__in=ids).values_list("id", flat=True))
    unknown = sorted(set(ids) - found)
    if unknown:
        raise ValidationError({field: _("Unknown contact ids: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}})
