"""The campaign form's editors: audience, variable mapping and trigger without typing JSON.

The choices they offer come from the organization(s) the form writes to: its tags, the
custom-field keys seen on its latest contacts, the contacts already chosen.
"""

from django.db import connection
from django.urls import reverse

from campaigns.audience import OPERATORS, PLAIN_FIELDS
from contacts.models import Contact, Tag
from core.admin_widgets import JsonEditorWidget

CUSTOM_KEYS_SAMPLE = 2000
TAGS_SHOWN = 300
LABELS_SHOWN = 500


def custom_field_keys(organization_ids) -> list[str]:
    """Keys of `custom_fields` on the organization's latest contacts (a bounded sample)."""
    contacts = Contact.objects.all()
    if organization_ids is not None:
        contacts = contacts.filter(organization__in=organization_ids)
    keys: set[str] = set()
    if connection.vendor == "postgresql":
        sample = contacts.order_by("-id").values("custom_fields")[:CUSTOM_KEYS_SAMPLE]
        sql, params = sample.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT jsonb_object_keys(s.custom_fields) FROM ({sql}) s "
                "WHERE jsonb_typeof(s.custom_fields) = 'object' LIMIT 200",
                params,
            )
            keys = {row[0] for row in cursor.fetchall()}
    else:
        for fields in contacts.order_by("-id").values_list("custom_fields", flat=True)[:CUSTOM_KEYS_SAMPLE]:
            keys.update(fields or {})
    return sorted(keys)


class VariableMappingWidget(JsonEditorWidget):
    editor = "mapping"
    organization_ids = None
    variables: list[str] = []

    def editor_context(self):
        sources = [(f"{{{{contact.{name}}}}}", f"contact.{name}") for name in ("name", "phone", "email")]
        sources += [
            (f"{{{{contact.custom_fields.{key}}}}}", f"contact.custom_fields.{key}")
            for key in custom_field_keys(self.organization_ids)
        ]
        return {"sources": sources, "variables": self.variables}


class AudienceWidget(JsonEditorWidget):
    editor = "audience"
    organization_ids = None
    chosen_ids: list[int] = []

    def editor_context(self):
        tags = Tag.objects.order_by("name")
        contacts = Contact.objects.filter(id__in=self.chosen_ids[:LABELS_SHOWN])
        if self.organization_ids is not None:
            tags = tags.filter(organization__in=self.organization_ids)
            contacts = contacts.filter(organization__in=self.organization_ids)
        keys = custom_field_keys(self.organization_ids)
        return {
            "tags": sorted({tag.name for tag in tags[:TAGS_SHOWN]}),
            "contact_labels": {contact.id: str(contact) for contact in contacts},
            "segment_fields": [*PLAIN_FIELDS, "tag", *[f"custom_fields.{key}" for key in keys]],
            "operators": list(OPERATORS),
            "search_url": reverse("admin:campaigns_audience_contacts"),
        }


class TriggerWidget(JsonEditorWidget):
    """trigger_config drawn for the form's trigger_type: a start time, a cron expression or an event name."""

    editor = "trigger"
    campaign_id = None

    def editor_context(self):
        return {
            "campaign": self.campaign_id,
            "cron_url": reverse("admin:campaigns_cron_preview"),
            "events_url": reverse("events"),
        }
