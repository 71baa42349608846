"""What PostgreSQL's jsonb refuses, found before it does: NUL characters, lone surrogates, deep nesting."""

from django.utils.translation import gettext as _

MAX_DEPTH = 20


def json_problem(value) -> str:
    """A reason `value` cannot be stored as jsonb ("" when it can); walked without recursion."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return _("nested deeper than %(n)d levels") % {"n": MAX_DEPTH}
        if isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            if "\x00" in item:
                return _("contains a NUL character")
            if any(0xD800 <= ord(ch) <= 0xDFFF for ch in item):
                return _("contains a lone surrogate")
    return ""
