from django import forms
from django.contrib import admin
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import TenantAdmin
from accounts.queries import organization_ids_for
from contacts import services
from contacts.models import Contact, ContactImport, Tag
from contacts.phones import InvalidPhone, normalize_phone


class OptedOutFilter(admin.SimpleListFilter):
    title = _("opted out")
    parameter_name = "opted_out"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(opted_out_at__isnull=self.value() == "no")
        return queryset


class TagFilter(admin.SimpleListFilter):
    """The tags of the operator's organizations (RelatedOnlyFieldListFilter would scan every contact)."""

    title = _("tag")
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        tags = Tag.objects.all()
        if not request.user.is_superuser:
            tags = tags.filter(organization__in=organization_ids_for(request))
        return [(tag.id, tag.name) for tag in tags[:200]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(tags__id=self.value())
        return queryset


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["organization", "phone", "name", "email", "custom_fields", "tags", "is_active"]

    def clean_phone(self):
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except InvalidPhone as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(Contact)
class ContactAdmin(TenantAdmin):
    form = ContactForm
    list_display = ["phone", "name", "email", "is_active", "opted_out", "last_interaction_at", "created_at"]
    list_filter = [TagFilter, OptedOutFilter, "is_active"]
    search_fields = ["phone", "name", "email"]
    autocomplete_fields = ["tags"]
    readonly_fields = [
        "opted_out_at",
        "opt_out_reason",
        "opt_out_source",
        "last_interaction_at",
        "total_messages_received",
        "created_at",
        "updated_at",
    ]
    list_per_page = 50
    actions = ["opt_out", "opt_in", "deactivate"]

    @admin.display(description=_("opted out"), boolean=True, ordering="opted_out_at")
    def opted_out(self, contact):
        return contact.opted_out_at is not None

    @admin.action(description=_("Opt out selected contacts"))
    def opt_out(self, request, queryset):
        count = services.contacts_opt_out(contacts=queryset, reason=_("by an operator"), source="admin")
        self.message_user(request, _("%(count)d contact(s) opted out.") % {"count": count})

    @admin.action(description=_("Opt in selected contacts again"))
    def opt_in(self, request, queryset):
        count = services.contacts_opt_in(contacts=queryset)
        self.message_user(request, _("%(count)d contact(s) opted in.") % {"count": count})

    @admin.action(description=_("Deactivate selected contacts"))
    def deactivate(self, request, queryset):
        count = services.contacts_deactivate(contacts=queryset)
        self.message_user(request, _("%(count)d contact(s) deactivated.") % {"count": count})


@admin.register(Tag)
class TagAdmin(TenantAdmin):
    list_display = ["name", "organization"]
    search_fields = ["name"]


@admin.register(ContactImport)
class ContactImportAdmin(TenantAdmin):
    """The CSV upload page: adding a row stores the file and queues the import."""

    list_display = ["__str__", "status", "total_rows", "created_count", "updated_count", "invalid_count", "created_at"]
    list_filter = ["status"]
    list_select_related = ["created_by"]
    result_fields = [
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "invalid_count",
        "report_link",
        "error",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]

    def get_fields(self, request, obj=None):
        upload = ["organization", "file", "tag", "delimiter"]
        return upload if obj is None else [*upload, *self.result_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["organization", "file", "tag", "delimiter", *self.result_fields]

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description=_("error report"))
    def report_link(self, contact_import):
        if not contact_import.report:
            return "-"
        url = reverse("admin:contacts_contactimport_report", args=[contact_import.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download the rows not imported"))

    def get_urls(self):
        report = path(
            "<int:pk>/report/", self.admin_site.admin_view(self.report_view), name="contacts_contactimport_report"
        )
        return [report, *super().get_urls()]

    def report_view(self, request, pk: int):
        """The error report, to whoever may see the import (its organization's staff, superusers).

        Media files are not served by the web process; this is the one way to the reports.
        """
        contact_import = self.get_queryset(request).filter(pk=pk).first()
        if contact_import is None or not self.has_view_permission(request, contact_import) or not contact_import.report:
            raise Http404
        try:
            report = contact_import.report.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        return FileResponse(
            report,
            as_attachment=True,
            filename=f"import-{contact_import.pk}-errors.csv",
            content_type="text/csv; charset=utf-8",
        )

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            services.contact_import_enqueue(contact_import=obj)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request,
            _("Import queued at %(time)s; this page shows the result when it finishes.")
            % {"time": date_format(timezone.localtime(obj.created_at), "TIME_FORMAT")},
        )
        return HttpResponseRedirect(reverse("admin:contacts_contactimport_change", args=[obj.pk]))
