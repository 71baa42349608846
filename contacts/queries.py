"""Reads of contacts: the filters the API, the admin and the campaign audiences share."""

import re

from django.db.models import Exists, OuterRef, Q, QuerySet

from contacts.models import Contact

_NON_DIGITS = re.compile(r"\D")


def contacts_with_tags(queryset: QuerySet[Contact], names: list[str]) -> QuerySet[Contact]:
    """Contacts having any of the tag names (an EXISTS, so no duplicate rows and no DISTINCT)."""
    through = Contact.tags.through
    return queryset.filter(
        Exists(through.objects.filter(contact_id=OuterRef("id"), tag__name__in=names)),
    )


def contacts_opted_out(queryset: QuerySet[Contact], opted_out: bool) -> QuerySet[Contact]:
    return queryset.filter(opted_out_at__isnull=not opted_out)


def contacts_matching(queryset: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Search on name, email and phone; the phone matches on digits, so "99999-9999" finds it."""
    text = text.strip()
    if not text:
        return queryset
    condition = Q(name__icontains=text) | Q(email__icontains=text)
    digits = _NON_DIGITS.sub("", text)
    if len(digits) >= 3:
        condition |= Q(phone__contains=digits)
    return queryset.filter(condition)


def messageable_contacts(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    """Active and not opted out: who a campaign may reach."""
    return queryset.filter(is_active=True, opted_out_at__isnull=True)
