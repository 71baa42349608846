"""The API's filter backend: filters by a related object's id never tell whether that id exists.

django-filter's default for a foreign key is a choice among *all* rows of the related
model: an id of another organization passes (200, empty: the queryset is scoped) while
an id that does not exist is a 400, so a stranger could enumerate another tenant's ids.
Here every foreign-key filter takes a plain id (a 400 only when it is not one) and both
answer alike: 200 with nothing of the other organization.
"""

from django import forms
from django.db import models
from django_filters import rest_framework as filters
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS

from core.json_input import INT64_MAX


class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(*args, **kwargs)


class TenantFilterSet(filters.FilterSet):
    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.ManyToManyField: {"filter_class": IdFilter},
    }


class TenantFilterBackend(filters.DjangoFilterBackend):
    filterset_base = TenantFilterSet
