"""Tags by name: the one writer of tags, for the API, the admin and the import."""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from contacts.models import Tag


def tags_for_names(*, organization, names: Iterable[str]) -> list[Tag]:
    """The organization's tags with these names, created as needed (names are stripped)."""
    wanted = list(dict.fromkeys(name.strip() for name in names if name and name.strip()))
    if not wanted:
        return []
    for name in wanted:
        if len(name) > Tag._meta.get_field("name").max_length:
            raise ValidationError({"tags": _('Tag "%(name)s" is too long.') % {"name": name[:50]}})
    Tag.objects.bulk_create([Tag(organization=organization, name=name) for name in wanted], ignore_conflicts=True)
    return list(Tag.objects.filter(organization=organization, name__in=wanted))
