"""Reading untrusted JSON: bounded nesting, no NUL or lone surrogates, finite numbers."""

import pytest

from core import json_input


def test_nesting_deeper_than_the_limit_is_refused_without_recursion():
    with pytest.raises(json_input.TooDeep):
        json_input.loads_strict(b"[" * 100_000)
    with pytest.raises(json_input.TooDeep):
        json_input.loads_lenient(b'{"a":' * 3_000 + b"1" + b"}" * 3_000)


def test_brackets_inside_strings_do_not_count_as_nesting():
    document = b'{"text": "' + b"[{" * 500 + b'\\"]"}'
    assert json_input.loads_strict(document) == {"text": "[{" * 500 + '"]'}


def test_nesting_at_the_limit_is_read():
    limit = json_input.max_depth()
    assert json_input.loads_strict(b"[" * limit + b"]" * limit) is not None


def test_strict_names_the_path_of_a_nul_a_lone_surrogate_or_an_overflowing_number():
    cases = {
        b'{"custom_fields": {"x": "a\\u0000b"}}': "custom_fields.x",
        b'{"trigger_keywords": ["ok", "\\ud800"]}': "trigger_keywords[1]",
        b'{"variable_mapping": {"na\\u0000me": "x"}}': "variable_mapping.na\\x00me",
        b'{"template": 1e999}': "template",
        b'{"flow": -1e999}': "flow",
        b'{"chatbot_id": 123456789012345678901234567890}': "chatbot_id",
    }
    for body, path in cases.items():
        with pytest.raises(json_input.BadValue) as caught:
            json_input.loads_strict(body)
        assert caught.value.path == path, body


def test_strict_refuses_nan_and_infinity():
    for body in (b"[NaN]", b'{"a": Infinity}', b"-Infinity"):
        with pytest.raises(ValueError):
            json_input.loads_strict(body)


def test_a_valid_surrogate_pair_is_one_character():
    assert json_input.loads_strict(b'["\\ud83d\\ude00"]') == ["\U0001f600"]


def test_lenient_replaces_bad_characters_and_numbers_and_says_so():
    body = b'{"da\\u0000ta": {"text": "oi\\u0000", "lone": "\\udc00", "datetime": 1e999, "n": 1e400, "ok": 2}}'
    document, changed = json_input.loads_lenient(body)
    assert changed
    assert document == {"da\ufffdta": {"text": "oi\ufffd", "lone": "\ufffd", "datetime": None, "n": None, "ok": 2}}


def test_lenient_leaves_a_clean_document_alone():
    document, changed = json_input.loads_lenient('{"text": "olá 😀", "n": 1.5}'.encode())
    assert not changed and document == {"text": "olá 😀", "n": 1.5}


def test_raw_surrogate_bytes_are_replaced_too():
    document, changed = json_input.loads_lenient(b'{"t": "\xed\xa0\x80"}')
    assert changed and document == {"t": "\ufffd"}


def test_lenient_marks_a_number_postgresql_numeric_would_refuse_for_re_encoding():
    document, changed = json_input.loads_lenient(b'{"x": 1e-20000, "y": 0.' + b"1" * 20_000 + b"}")
    assert changed and document["x"] == 0.0
