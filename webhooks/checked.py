"""Untrusted JSON read through checks that name the path of a bad field.

Zulip's `WildValue` in miniature: `Checked(payload)["data"]["key"]["id"].string()`
either returns a str or raises `BadPayload("data.key.id must be a string")`, so a 400
answer says exactly what was wrong without a parser full of isinstance checks.
"""

from typing import Any

_MISSING = object()


def is_ascii_digits(value, *, max_digits: int = 20) -> bool:
    """A string of 0-9 short enough to read as an integer (str.isdigit() also takes ² and 5,000 digits)."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= max_digits


class BadPayload(ValueError):
    """The payload is not the shape its event promises (answered with a 400)."""


class Checked:
    __slots__ = ("path", "value")

    def __init__(self, value: Any, path: str = "payload"):
        self.value = value
        self.path = path

    def _child(self, name) -> str:
        if isinstance(name, int):
            return f"{self.path}[{name}]"
        return name if self.path == "payload" else f"{self.path}.{name}"

    def __getitem__(self, name: str) -> "Checked":
        found = self.get(name, _MISSING)
        if found.value is _MISSING:
            raise BadPayload(f"{self._child(name)} is missing")
        return found

    def get(self, name: str, default: Any = None) -> "Checked":
        if not isinstance(self.value, dict):
            raise BadPayload(f"{self.path} must be an object")
        value = self.value.get(name, default)
        return Checked(default if value is None else value, self._child(name))

    def __contains__(self, name: str) -> bool:
        return isinstance(self.value, dict) and self.value.get(name) is not None

    @property
    def missing(self) -> bool:
        return self.value is None

    def string(self, *, allow_empty: bool = False, max_length: int | None = None) -> str:
        if not isinstance(self.value, str):
            raise BadPayload(f"{self.path} must be a string")
        if not allow_empty and not self.value:
            raise BadPayload(f"{self.path} must not be empty")
        return self._bounded(self.value, max_length)

    def optional_string(self, *, max_length: int | None = None) -> str:
        if self.value is None:
            return ""
        if not isinstance(self.value, str):
            raise BadPayload(f"{self.path} must be a string")
        return self._bounded(self.value, max_length)

    def _bounded(self, value: str, max_length: int | None) -> str:
        if max_length is not None and len(value) > max_length:
            raise BadPayload(f"{self.path} is longer than {max_length} characters")
        return value

    def boolean(self, default: bool | None = None) -> bool:
        if self.value is None and default is not None:
            return default
        if not isinstance(self.value, bool):
            raise BadPayload(f"{self.path} must be true or false")
        return self.value

    def integer(self) -> int:
        value = self.value
        if is_ascii_digits(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadPayload(f"{self.path} must be an integer")
        return value

    def optional_integer(self) -> int | None:
        return None if self.value is None else self.integer()

    def object(self) -> "Checked":
        if not isinstance(self.value, dict):
            raise BadPayload(f"{self.path} must be an object")
        return self

    def items(self) -> list["Checked"]:
        """A list's elements, or a single object as a one-element list (some senders unwrap)."""
        if isinstance(self.value, list):
            return [Checked(item, self._child(i)) for i, item in enumerate(self.value)]
        if isinstance(self.value, dict):
            return [self]
        raise BadPayload(f"{self.path} must be an object or a list of objects")
