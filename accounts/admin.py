import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.core.paginator import Paginator
from django.db import connections
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts.models import ApiToken, Membership, Organization
from accounts.queries import organization_ids_for
from core.forms import JSON_FORM_FIELDS


def approximate(n: int) -> str:
    """A large count as people read it: `≈ 1,2 mi`, `≈ 35 mil` (pt-BR), `≈ 1.2M`, `≈ 35k` (English)."""
    if n >= 1_000_000:
        return _("≈ %(value)s M") % {"value": number_format(round(n / 1_000_000, 1), decimal_pos=1, use_l10n=True)}
    return _("≈ %(value)s k") % {"value": number_format(round(n / 1_000), use_l10n=True)}


class EstimatedCountPaginator(Paginator):
    """Exact up to `ADMIN_EXACT_COUNT_LIMIT` rows, PostgreSQL's planner estimate past it, marked so.

    The exact part is one `COUNT(*)` over a `LIMIT limit + 1` subquery (it stops there,
    whatever the table's size); the estimate is the planner's row count for the list's own
    query (its filters and search included), never less than the limit it passed.
    """

    template_name = "admin/whatsflow/pagination.html"
    is_estimate = False

    @cached_property
    def count(self):
        limit = settings.ADMIN_EXACT_COUNT_LIMIT
        exact = self.object_list[: limit + 1].count()
        if exact <= limit:
            return exact
        estimate = planner_estimate(self.object_list)
        if estimate is None:
            return self.object_list.count()
        self.is_estimate = True
        return max(estimate, limit + 1)

    @property
    def count_label(self) -> str:
        return approximate(self.count) if self.is_estimate else number_format(self.count, use_l10n=True)


def planner_estimate(queryset) -> int | None:
    """PostgreSQL's estimate of the rows `queryset` returns (None on other databases)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


class TenantAdmin(ModelAdmin):
    """Base admin of tenant-owned models.

    Superusers see every row. Staff operators see and edit only their organizations'
    rows; foreign keys offer only rows of those organizations, and a new row goes to
    their organization (or one they pick among theirs).
    """

    organization_field = "organization"
    # True counts on every list: exact on small tables, a marked estimate on large ones.
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    formfield_overrides = JSON_FORM_FIELDS

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.organization_field}__in": organization_ids_for(request)})

    def response_action(self, request, queryset):
        """Bulk actions change only rows of organizations where the user's role writes."""
        if not request.user.is_superuser:
            writable = queryset.filter(**{f"{self.organization_field}__in": organization_ids_for(request, write=True)})
            selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
            if selected and writable.filter(pk__in=selected).count() < len(set(selected)):
                self.message_user(
                    request,
                    _("Your role only reads in the organization of some selected rows: they were left unchanged."),
                    messages.WARNING,
                )
            queryset = writable
        return super().response_action(request, queryset)

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


class MembershipInline(TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(ModelAdmin):
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
class MembershipAdmin(ModelAdmin):
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
class ApiTokenAdmin(ModelAdmin):
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


# Django's own user and group pages, in the same theme as the rest of the admin.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


def _theme_celery_beat_admin() -> None:
    """django-celery-beat's pages (the system's periodic tasks) in the same theme."""
    from django_celery_beat import admin as beat_admin
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    for model, base in [
        (PeriodicTask, beat_admin.PeriodicTaskAdmin),
        (ClockedSchedule, beat_admin.ClockedScheduleAdmin),
        (CrontabSchedule, beat_admin.CrontabScheduleAdmin),
        (SolarSchedule, beat_admin.SolarScheduleAdmin),
        (IntervalSchedule, beat_admin.IntervalScheduleAdmin),
    ]:
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, type(base.__name__, (base, ModelAdmin), {}))


_theme_celery_beat_admin()


def _theme_axes_admin() -> None:
    """django-axes' pages (login attempts and lockouts) in the same theme."""
    import axes.admin  # noqa: F401  (registers its pages now, so they can be replaced)

    for model, model_admin in list(admin.site._registry.items()):
        if model._meta.app_label == "axes" and not isinstance(model_admin, ModelAdmin):
            base = type(model_admin)
            admin.site.unregister(model)
            admin.site.register(model, type(base.__name__, (base, ModelAdmin), {}))


_theme_axes_admin()
