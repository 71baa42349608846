"""Form fields shared by every admin."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput
from django.utils.translation import gettext_lazy as _

from core import json_input


class StorableJSONField(forms.JSONField):
    """Django's JSON form field, read through `core.json_input.loads_strict`.

    Django's reads with `json.loads`: NUL and lone surrogates reach PostgreSQL (a 500) and
    deep nesting makes it recurse (a 500, even when only redisplaying the form). Here
    each is a form error naming the path.
    """

    def to_python(self, value):
        if self.disabled or not isinstance(value, str) or value in self.empty_values:
            return super().to_python(value)
        try:
            return json_input.loads_strict(value)
        except json_input.BadValue as exc:
            raise ValidationError(
                _("%(path)s: %(message)s"), params={"path": exc.path or "JSON", "message": exc.message}
            ) from None
        except ValueError as exc:
            raise ValidationError(_("Enter a valid JSON: %(error)s"), params={"error": str(exc)[:200]}) from None

    def bound_data(self, data, initial):
        if self.disabled:
            return initial
        if data is None:
            return None
        try:
            return json_input.loads_strict(data)
        except ValueError:
            return InvalidJSONInput(data)


# For `ModelAdmin.formfield_overrides` (TenantAdmin and the inlines use it).
JSON_FORM_FIELDS = {models.JSONField: {"form_class": StorableJSONField}}
