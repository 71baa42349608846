"""Viewers read and never write, on every tenant-scoped endpoint."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.tenancy import TenantScopedMixin
from tests.factories import tenant_factories


def _routes(action_method: str, action: str, patterns=None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(action_method, action, pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            cls = getattr(pattern.callback, "cls", None)
            actions = getattr(pattern.callback, "actions", None) or {}
            if cls is not None and issubclass(cls, TenantScopedMixin) and actions.get(action_method) == action:
                yield pattern.name, cls


CREATE_ROUTES = sorted(set(_routes("post", "create")), key=lambda r: r[0])
DELETE_ROUTES = sorted(set(_routes("delete", "destroy")), key=lambda r: r[0])


@pytest.mark.parametrize(("url_name", "viewset"), CREATE_ROUTES, ids=[n for n, _ in CREATE_ROUTES])
def test_a_viewer_cannot_create(url_name, viewset, vera_client):
    model = viewset.queryset.model
    before = model.objects.count()
    response = vera_client.post(reverse(url_name), {}, format="json")
    assert response.status_code == 403
    assert model.objects.count() == before


@pytest.mark.parametrize(("url_name", "viewset"), DELETE_ROUTES, ids=[n for n, _ in DELETE_ROUTES])
def test_a_viewer_cannot_delete_but_can_read(url_name, viewset, vera_client, org_a):
    row = tenant_factories()[viewset.queryset.model](org_a)
    url = reverse(url_name, kwargs={"pk": row.pk})
    assert vera_client.get(url).status_code == 200
    assert vera_client.delete(url).status_code == 403
    assert vera_client.patch(url, {}, format="json").status_code == 403
    assert viewset.queryset.model.objects.filter(pk=row.pk).exists()
