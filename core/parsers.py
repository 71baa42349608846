"""The API's parsers (`DEFAULT_PARSER_CLASSES`): DRF's, reading through `core.json_input`.

A body nested deeper than `JSON_MAX_DEPTH` is a 400 `{"detail": ...}`; a NUL, a lone
surrogate or a number that overflows anywhere in it (keys too) is a 400 naming its
path, `{"custom_fields.plan": ["Text must not contain NUL ..."]}`, before any view or
serializer sees it. One check for every endpoint, form and multipart bodies included.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.settings import api_settings

from core import json_input


def _refuse(bad: tuple[str, str] | None) -> None:
    if bad is not None:
        path, message = bad
        raise ValidationError({path or api_settings.NON_FIELD_ERRORS_KEY: [message]})


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        try:
            return json_input.loads_strict(body)
        except json_input.TooDeep as exc:
            raise ParseError(str(exc)) from None
        except json_input.BadValue as exc:
            _refuse((exc.path, exc.message))
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _refuse(json_input.first_bad_field(data))
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _refuse(json_input.first_bad_field(parsed.data))
        for key in parsed.files:
            if any(json_input.has_unstorable_text(f.name or "") for f in parsed.files.getlist(key)):
                _refuse((key, json_input.UNSTORABLE_TEXT))
        return parsed
