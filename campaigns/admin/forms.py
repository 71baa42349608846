"""The campaign form (validated and saved by the campaign services) and the test-send form."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminSelectMultipleWidget, UnfoldAdminSelectWidget

from campaigns.admin.widgets import AudienceWidget, TriggerWidget, VariableMappingWidget
from campaigns.models import Campaign
from campaigns.schedules import triggers
from campaigns.services import authoring
from contacts.models import Contact
from instances.models import WhatsAppInstance

# The service names fields as the API does; the form names them as the model does.
FORM_FIELD_OF = {"chatbot_id": "template", "flow_id": "flow", "whatsapp_number_id": "whatsapp_number"}
TRIGGER_FIELDS = ("trigger_type", "trigger_config", "time_zone")


class CampaignForm(forms.ModelForm):
    """Validated by `authoring.validate_campaign`, saved by `authoring.create_campaign` and `update_campaign`."""

    whatsapp_number = forms.ModelChoiceField(
        queryset=WhatsAppInstance.objects.none(),
        label=_("WhatsApp number"),
        widget=UnfoldAdminSelectWidget,
        help_text=_("The number that sends (the API's whatsapp_number_id)."),
    )
    more_whatsapp_numbers = forms.ModelMultipleChoiceField(
        queryset=WhatsAppInstance.objects.none(),
        required=False,
        label=_("More WhatsApp numbers"),
        widget=UnfoldAdminSelectMultipleWidget,
        help_text=_("They share the load with the first one, by health and free rate."),
    )
    # Set by CampaignAdmin.get_form: the organizations the user may write to (None: all).
    organization_ids = None

    class Meta:
        model = Campaign
        fields = ["organization", "template", "flow", *authoring.CAMPAIGN_FIELDS]
        widgets = {
            "audience_config": AudienceWidget(),
            "variable_mapping": VariableMappingWidget(),
            "trigger_config": TriggerWidget(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        numbers = WhatsAppInstance.objects.select_related("organization").order_by("name")
        if self.organization_ids is not None:
            numbers = numbers.filter(organization__in=self.organization_ids)
        for name in ("whatsapp_number", "more_whatsapp_numbers"):
            if name in self.fields:
                self.fields[name].queryset = numbers
        self._set_up_editors()
        if self.instance.pk and "whatsapp_number" in self.fields:
            first, *more = self.instance.ordered_instances() or [None]
            self.initial.setdefault("whatsapp_number", first)
            self.initial.setdefault("more_whatsapp_numbers", more)

    def _set_up_editors(self):
        """The editors offer this organization's tags, custom fields, flow variables and chosen contacts."""
        from campaigns.admin.dispatch import flow_variables

        ids = [self.instance.organization_id] if self.instance.pk else self.organization_ids
        if "variable_mapping" in self.fields:
            widget = self.fields["variable_mapping"].widget
            widget.organization_ids = ids
            widget.variables = flow_variables(self.instance.flow) if self.instance.pk else []
        if "trigger_config" in self.fields:
            self.fields["trigger_config"].widget.campaign_id = self.instance.pk
        if "audience_config" in self.fields:
            widget = self.fields["audience_config"].widget
            widget.organization_ids = ids
            config = self.instance.audience_config if isinstance(self.instance.audience_config, dict) else {}
            chosen = config.get("contact_ids") if isinstance(config.get("contact_ids"), list) else []
            widget.chosen_ids = [i for i in chosen if isinstance(i, int)]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        organization = self.instance.organization if self.instance.pk else cleaned.get("organization")
        arguments = self.service_arguments()
        try:
            if self.instance.pk:
                authoring.check_editable(self.instance)
            authoring.validate_campaign(
                organization=organization,
                template=arguments["template"],
                flow=arguments["flow"],
                instances=arguments["instances"],
                fields=arguments["fields"],
            )
        except ValidationError as error:
            for path, messages_ in error.message_dict.items():
                self._add_service_error(path, messages_)
            return cleaned
        if self._trigger_changed():
            try:
                triggers.check_schedule(campaign=self._planned_campaign(organization))
            except ValidationError as error:  # about the schedule the trigger makes, e.g. its start_date
                for path, messages_ in error.message_dict.items():
                    self._add_service_error(path, messages_, field="trigger_config")
        return cleaned

    def _add_service_error(self, path: str, messages_: list, field: str | None = None) -> None:
        """On the field the path starts with (`trigger_config.scheduled_at` on trigger_config), naming the path."""
        name = FORM_FIELD_OF.get(path, path)
        if name in self.fields:
            self.add_error(name, messages_)
            return
        field = field or path.split(".")[0].split("[")[0]
        if field not in self.fields:  # e.g. the status, which the form does not edit
            self.add_error(None, messages_)
            return
        self.add_error(field, [f"{path}: {message}" for message in messages_])

    def _trigger_changed(self) -> bool:
        return not self.instance.pk or any(name in self.changed_data for name in TRIGGER_FIELDS)

    def _planned_campaign(self, organization) -> Campaign:
        """The campaign as it would be saved, as far as its trigger goes."""
        cleaned = self.cleaned_data
        return Campaign(
            pk=self.instance.pk,
            organization=organization,
            trigger_type=cleaned.get("trigger_type", self.instance.trigger_type),
            trigger_config=cleaned.get("trigger_config", self.instance.trigger_config),
            time_zone=cleaned.get("time_zone") or organization.time_zone,
        )

    def service_arguments(self) -> dict:
        cleaned = self.cleaned_data
        first = cleaned.get("whatsapp_number")
        more = [number for number in cleaned.get("more_whatsapp_numbers") or [] if number != first]
        return {
            "template": cleaned.get("template"),
            "flow": cleaned.get("flow"),
            "instances": [first, *more] if first else [],
            "fields": {
                name: cleaned[name] for name in authoring.CAMPAIGN_FIELDS if name in cleaned and self._sends(name)
            },
        }

    def _sends(self, name: str) -> bool:
        """An unchanged trigger is not sent again: the service would rebuild its schedule (and refuse a
        `scheduled_at` now past, so a campaign that ran could not be renamed)."""
        return name not in TRIGGER_FIELDS or self._trigger_changed()


class TestSendForm(forms.Form):
    contacts = forms.ModelMultipleChoiceField(
        queryset=Contact.objects.none(), label=_("Contacts"), widget=UnfoldAdminSelectMultipleWidget
    )

    def __init__(self, *args, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        contacts = Contact.objects.filter(
            organization=campaign.organization, is_active=True, opted_out_at__isnull=True
        ).order_by("name")
        # Any reachable contact is accepted; only the first 500 are offered (a sliced
        # queryset would refuse every choice: Django filters it to validate).
        self.fields["contacts"].queryset = contacts
        self.fields["contacts"].widget.choices = [(contact.pk, str(contact)) for contact in contacts[:500]]
