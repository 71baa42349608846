from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from accounts.forms import JSON_FORM_FIELDS
from accounts.models import ApiToken, Membership, Organization
from accounts.queries import organization_ids_for


class TenantAdmin(admin.ModelAdmin):
    """Base admin of tenant-owned models.

    Superusers see every row. Staff operators see and edit only their organizations'
    rows; foreign keys offer only rows of those organizations, and a new row goes to
    their organization (or one they pick among theirs).
    """

    organization_field = "organization"
    formfield_overrides = JSON_FORM_FIELDS

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.organization_field}__in": organization_ids_for(request)})

    def get_list_filter(self, request):
        list_filter = list(super().get_list_filter(request))
        if request.user.is_superuser and self.organization_field == "organization":
            list_filter.insert(0, "organization")
        return list_filter

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            related = db_field.related_model
            org_ids = organization_ids_for(request, write=True)
            if related is Organization:
                kwargs["queryset"] = Organization.objects.filter(id__in=org_ids)
            elif any(f.name == "organization" for f in related._meta.get_fields()):
                kwargs["queryset"] = related._default_manager.filter(organization__in=org_ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            related = db_field.related_model
            if any(f.name == "organization" for f in related._meta.get_fields()):
                org_ids = organization_ids_for(request, write=True)
                kwargs["queryset"] = related._default_manager.filter(organization__in=org_ids)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None or request.user.is_superuser:
            return allowed
        return getattr(obj, "organization_id", None) in organization_ids_for(request, write=True)

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if not allowed or obj is None or request.user.is_superuser:
            return allowed
        return getattr(obj, "organization_id", None) in organization_ids_for(request, write=True)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(id__in=organization_ids_for(request))


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    list_select_related = ["user", "organization"]
    autocomplete_fields = ["user", "organization"]

    def has_module_permission(self, request):
        return request.user.is_superuser


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenForm
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    actions = ["revoke"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user=request.user)

    def get_fields(self, request, obj=None):
        return (
            ["user", "name"] if obj is None else ["user", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        )

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["user", "prefix", "created_at", "last_used_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = type(request.user)._default_manager.filter(id=request.user.id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            key = obj.set_key()
            messages.warning(
                request,
                _("Copy this token now, it will not be shown again: %(key)s") % {"key": key},
            )
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token.revoke()
            count += 1
        self.message_user(request, _("%(count)d token(s) revoked.") % {"count": count})
