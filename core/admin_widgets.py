"""Admin widgets that edit JSON without typing JSON.

Each renders a small editor above the field's own JSON textarea, which stays available
under "Advanced (JSON)" and is what the form posts: the editor only writes into it, so
the form's validation and the services see exactly what they saw before.
"""

import json

from django import forms
from django.core.serializers.json import DjangoJSONEncoder


class JsonEditorWidget(forms.Textarea):
    """Base: the JSON textarea kept under "Advanced (JSON)", `editor` names the editor to draw."""

    template_name = "admin/whatsflow/widgets/json_editor.html"
    editor = ""

    def __init__(self, attrs=None, **options):
        super().__init__(attrs={"rows": 3, **(attrs or {})})
        self.options = options

    def editor_context(self) -> dict:
        return dict(self.options)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["editor"] = self.editor
        context["widget"]["editor_options_json"] = json.dumps(self.editor_context(), cls=DjangoJSONEncoder)
        return context


class TagListWidget(JsonEditorWidget):
    """A JSON list of words as tags: type a word, Enter or comma adds it, × removes it."""

    editor = "tags"


class TagFieldsMixin:
    """For a ModelAdmin or inline: the JSON list fields named in `tag_fields` are edited as tags."""

    tag_fields: tuple[str, ...] = ()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.tag_fields:
            kwargs["widget"] = TagListWidget()
        return super().formfield_for_dbfield(db_field, request, **kwargs)
