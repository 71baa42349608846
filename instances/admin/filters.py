from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class HealthFilter(admin.SimpleListFilter):
    title = _("health")
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("good", _("Good (80+)")), ("fair", _("Fair (50-79)")), ("poor", _("Poor (<50)"))]

    def queryset(self, request, queryset):
        ranges = {"good": (80, 100), "fair": (50, 79), "poor": (0, 49)}
        if self.value() in ranges:
            return queryset.filter(health_score__range=ranges[self.value()])
        return queryset


class NeedsQrLoginFilter(admin.SimpleListFilter):
    title = _("QR login")
    parameter_name = "qr_login"

    def lookups(self, request, model_admin):
        return [("needed", _("Needs a new QR login")), ("ok", _("Logged in"))]

    def queryset(self, request, queryset):
        if self.value() in ("needed", "ok"):
            return queryset.filter(needs_qr_login=self.value() == "needed")
        return queryset
