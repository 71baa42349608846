"""Hypothesis strategies: the providers' captured payloads, with hostile changes at random paths.

A change replaces a value, removes a key or adds one, anywhere in the document; the
values are what careless and hostile senders post (NUL, lone surrogates, 5,000-character
strings, numbers PostgreSQL or Python cannot hold, deep nesting, wrong types). Numbers
and nesting that `json.dumps` cannot write are spliced into the text as raw tokens.
"""

import json

from hypothesis import strategies as st

RAW = "@@raw:"
RAW_TOKENS = [
    "1e999",
    "-1e999",
    "1e-20000",
    "123456789012345678901234567890",
    "9" * 500,
    "0." + "1" * 20_000,
    "[" * 200 + "]" * 200,
    "[" * 5_000 + "]" * 5_000,
    "[" * 60 + "]" * 60,
    '{"a":' * 100 + "1" + "}" * 100,
]
HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfff",
    "\U0001f600",
    "=cmd|' /C calc'!A0",
    "x" * 5_000,
    "9" * 5_000,
    "²",
    "١٢٣",
    "+²@s.whatsapp.net",
    "null",
    "5511987654321",
    "5511987654321@s.whatsapp.net",
    "120363025246125486@g.us",
    "123@lid",
    "DELIVERY_ACK",
    "READ",
    "messages.update",
    "2025-03-14T10:21:07.512Z",
    "9999-12-31T23:59:59-14:00",
]

# What the parsers read: a change lands on one of these half of the time.
READ_KEYS = {
    "event", "instance", "data", "key", "keyId", "id", "remoteJid", "remoteJidAlt", "senderPn", "fromMe", "status",
    "message", "conversation", "extendedTextMessage", "text", "documentMessage", "fileName", "caption", "datetime",
    "messageTimestamp", "date_time", "state", "statusReason", "type", "body", "mediaType", "contact", "number",
    "name", "ticket", "ticketId", "contactId", "messageId", "fromGroup", "mediaUrl", "userId",
}  # fmt: skip
scalars = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.sampled_from(RAW_TOKENS).map(lambda token: RAW + token),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
    ),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=4,
)
keys = st.one_of(
    st.sampled_from(["", "\x00", "k\ud800", "__proto__", "data", "key", "id", "status"]), st.text(max_size=10)
)


def paths_of(document) -> list[tuple]:
    """Every path to a value in `document`, iteratively (the root excluded)."""
    paths, stack = [], [((), document)]
    while stack:
        path, value = stack.pop()
        children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, child in children:
            paths.append((*path, key))
            stack.append(((*path, key), child))
    return paths


def _parent(document, path):
    for key in path[:-1]:
        document = document[key]
    return document


@st.composite
def mutated(draw, document) -> str:
    """`document` with one to three hostile changes, as JSON text."""
    document = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = paths_of(document)
        if not paths:
            break
        read = [path for path in paths if path[-1] in READ_KEYS]
        if read and draw(st.booleans()):
            paths = read
        path = draw(st.sampled_from(sorted(paths, key=repr)))
        parent, last = _parent(document, path), path[-1]
        change = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if change == "replace":
            parent[last] = draw(values)
        elif change == "remove":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(keys)] = draw(values)
        else:
            parent.append(draw(values))
    return as_text(document)


def as_text(document) -> str:
    text = json.dumps(document)  # ensure_ascii: a lone surrogate is written as its escape
    for token in RAW_TOKENS:
        text = text.replace(json.dumps(RAW + token), token)
    return text
