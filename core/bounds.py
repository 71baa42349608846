"""Numeric fields held to a sane range, in the form, the API and the database alike.

One `{field: (low, high)}` table per model gives each field its validators (which the
admin's forms and DRF's ModelSerializer turn into errors naming the field) and the
model one check constraint. A value a little past what any operator means (a send
interval of 1e300 seconds) would otherwise be stored and break the worker that reads it.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def within(bounds: dict[str, tuple[float, float]], field: str) -> list:
    low, high = bounds[field]
    return [MinValueValidator(low), MaxValueValidator(high)]


def in_range_constraint(bounds: dict[str, tuple[float, float]], *, name: str, nullable=()) -> models.CheckConstraint:
    condition = models.Q()
    for field, (low, high) in bounds.items():
        inside = models.Q(**{f"{field}__gte": low, f"{field}__lte": high})
        condition &= inside | models.Q(**{f"{field}__isnull": True}) if field in nullable else inside
    return models.CheckConstraint(condition=condition, name=name)
