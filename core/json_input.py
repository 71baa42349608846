"""Reading untrusted JSON: bounded nesting, no NUL or lone surrogate, only numbers that fit.

Python's json recurses once per level (a `RecursionError` near 1,000 levels), accepts
lone surrogates (`"\\ud800"`) and turns `1e999` into `inf`; PostgreSQL refuses NUL in
text and jsonb and lone surrogates in jsonb, and `inf` overflows every integer and
interval. Two readers, one for each kind of caller:

- `loads_strict()` (the API, `core.parsers`): a document that breaks a rule is
  refused, naming the path of the first bad value (`custom_fields.plan`, `keywords[1]`).
- `loads_lenient()` (the webhooks): too deep is still refused, but bad characters become
  U+FFFD and out-of-range numbers null, so the provider's event is kept (a 4xx or 5xx for
  one odd character would lose it, or make the provider post it forever).

The depth is checked on the bytes before parsing, without recursion, so `[` × 100,000
costs a scan of its first bytes. Limits: docs/api-errors.md.
"""

import json
import math
import re
from typing import Any

from django.conf import settings

REPLACEMENT = "\ufffd"
INT64_MAX = 2**63 - 1

# A JSON string, escapes included; possessive so a long string is one match, not a backtrack.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")
# What PostgreSQL cannot store: NUL, and a surrogate that json left alone because it had no pair.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In the bytes: an escape that may decode to one of those (a valid pair also matches: harmless).
# A body without one, in valid UTF-8, is walked only if a number did not fit (numbers are
# few in these bodies, so their hooks cost less than a scan of the text).
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


class TooDeep(ValueError):
    """The document nests arrays/objects deeper than the limit."""


class BadValue(ValueError):
    """A value the database cannot hold; `path` names it (`a.b[2]`, "" for the document itself)."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path or 'document'}: {message}")
        self.path = path
        self.message = message


class _OutOfRange:
    """What the strict reader puts where a number does not fit, so the walk can name its path."""

    __slots__ = ()


OUT_OF_RANGE = _OutOfRange()
NUMBER_OUT_OF_RANGE = "Number out of range."
UNSTORABLE_TEXT = "Text must not contain NUL (\\u0000) or unpaired surrogate (\\ud800-\\udfff) characters."


def max_depth() -> int:
    return settings.JSON_MAX_DEPTH


def check_depth(body: bytes, limit: int | None = None) -> None:
    """Raise TooDeep if `body` nests deeper than `limit`; strings are skipped, nothing recurses."""
    limit = max_depth() if limit is None else limit
    if body.count(b"[") + body.count(b"{") <= limit:
        return
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    depth = 0
    for byte in brackets:
        if byte in _OPENERS:
            depth += 1
            if depth > limit:
                raise TooDeep(f"JSON nested deeper than {limit} levels.")
        else:
            depth -= 1


def has_unstorable_text(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def clean_text(text: str) -> str:
    """`text` with NUL and lone surrogates replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def _to_bytes(body) -> bytes:
    return body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)


def loads_strict(body: bytes | str) -> Any:
    """The document in `body`; raises TooDeep, BadValue (with its path) or ValueError (malformed)."""
    body = _to_bytes(body)
    check_depth(body)
    out_of_range = []

    def noting(convert):
        def parse(text: str):
            value = convert(text)
            if value is OUT_OF_RANGE:
                out_of_range.append(text)
            return value

        return parse

    document = json.loads(
        body, parse_constant=_not_json, parse_float=noting(_strict_float), parse_int=noting(_strict_int)
    )
    if not out_of_range and not _suspect(body):
        return document
    bad = first_bad_value(document)
    if bad is not None:
        raise BadValue(*bad)
    return document


def _strict_float(text: str):
    value = float(text)
    return value if math.isfinite(value) else OUT_OF_RANGE


def _beyond_numeric(text: str) -> bool:
    """Whether PostgreSQL's numeric (hence jsonb) may refuse the number as written: 1e-20000, 0.000…1."""
    if len(text) > 1000:
        return True
    mantissa, _, exponent = text.lower().partition("e")
    return bool(exponent) and abs(int(exponent)) > 1000


def _strict_int(text: str):
    if len(text) > 20:
        return OUT_OF_RANGE
    value = int(text)
    return value if -INT64_MAX <= value <= INT64_MAX else OUT_OF_RANGE


def first_bad_value(document) -> tuple[str, str] | None:
    """(path, message) of the first value the database cannot hold, in document order; iterative."""
    stack = [(document, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if has_unstorable_text(value):
                return path, UNSTORABLE_TEXT
        elif value is OUT_OF_RANGE:
            return path, NUMBER_OUT_OF_RANGE
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                key = str(key)
                if has_unstorable_text(key):
                    return join_path(path, key), UNSTORABLE_TEXT
                children.append((item, join_path(path, key)))
            stack.extend(reversed(children))
        elif isinstance(value, list | tuple):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
    return None


def first_bad_field(data) -> tuple[str, str] | None:
    """(name, message) for the first bad key or value of a QueryDict (a key may hold several values)."""
    for key in data:
        if has_unstorable_text(key) or any(has_unstorable_text(str(value)) for value in data.getlist(key)):
            return join_path("", key), UNSTORABLE_TEXT
    return None


def join_path(path: str, key: str) -> str:
    """`a.b` for a key, shown escaped if it holds a character a client could not read back."""
    if has_unstorable_text(key):
        key = key.encode("unicode_escape", "backslashreplace").decode("ascii")
    return f"{path}.{key}" if path else key


def loads_lenient(body: bytes | str) -> tuple[Any, bool]:
    """(document, whether anything was replaced); raises TooDeep, or ValueError when malformed."""
    body = _to_bytes(body)
    check_depth(body)
    changed = False

    def number_or_none(convert):
        def parse(text: str):
            nonlocal changed
            value = convert(text)
            if value is OUT_OF_RANGE:
                changed = True
                return None
            if _beyond_numeric(text):
                changed = True  # stored re-encoded from the float, e.g. 1e-20000 as 0.0
            return value

        return parse

    document = json.loads(
        body,
        parse_constant=_not_json,
        parse_float=number_or_none(_strict_float),
        parse_int=number_or_none(_strict_int),
    )
    if not _suspect(body):
        return document, changed
    changed = _replace_unstorable(document) or changed
    if isinstance(document, str) and has_unstorable_text(document):
        document, changed = clean_text(document), True
    return document, changed


def _suspect(body: bytes) -> bool:
    return (b"\\u" in body and _SUSPECT.search(body) is not None) or not _is_utf8(body)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _replace_unstorable(document) -> bool:
    """Replace NUL and lone surrogates in the strings and keys of `document`, in place; iterative."""
    changed = False
    stack = [document]
    while stack:
        container = stack.pop()
        if isinstance(container, dict):
            if any(has_unstorable_text(key) for key in container):
                items = list(container.items())
                container.clear()
                container.update((clean_text(key), item) for key, item in items)
                changed = True
            entries = container.items()
        elif isinstance(container, list):
            entries = enumerate(container)
        else:
            continue
        for key, item in list(entries):
            if isinstance(item, str):
                if has_unstorable_text(item):
                    container[key] = clean_text(item)
                    changed = True
            elif isinstance(item, dict | list):
                stack.append(item)
    return changed
