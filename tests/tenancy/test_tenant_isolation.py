"""Every tenant-scoped API endpoint hides other organizations' rows (one test for all)."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.tenancy import TenantScopedMixin
from tests.factories import tenant_factories


def _detail_routes(patterns=None, namespace_prefix=""):
    """(url name, viewset class) of every tenant-scoped detail route."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _detail_routes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            cls = getattr(pattern.callback, "cls", None)
            actions = getattr(pattern.callback, "actions", None) or {}
            if (
                cls is not None
                and issubclass(cls, TenantScopedMixin)
                and "pk" in pattern.pattern.regex.groupindex
                and actions.get("get") == "retrieve"
            ):
                yield pattern.name, cls


ROUTES = sorted(set(_detail_routes()), key=lambda route: route[0])


def test_every_tenant_scoped_route_is_covered():
    """A new viewset without a tenant factory fails here rather than going untested."""
    assert ROUTES, "no tenant-scoped routes found"
    factories = tenant_factories()
    missing = [name for name, cls in ROUTES if cls.queryset.model not in factories]
    assert not missing, f"add a TENANT_FACTORIES entry for: {missing}"


@pytest.mark.parametrize(("url_name", "viewset"), ROUTES, ids=[name for name, _ in ROUTES])
def test_other_organizations_rows_are_404(url_name, viewset, alice_client, charlie, org_b):
    foreign = tenant_factories()[viewset.queryset.model](org_b)
    url = reverse(url_name, kwargs={"pk": foreign.pk})

    assert alice_client.get(url).status_code == 404
    assert alice_client.patch(url, {}, format="json").status_code in (404, 405)
    assert alice_client.delete(url).status_code in (404, 405)
    assert viewset.queryset.model.objects.filter(pk=foreign.pk).exists()

    # The owner does see it, so the 404 above is about tenancy, not a broken route.
    assert bearer(charlie).get(url).status_code == 200


def bearer(user):
    from conftest import bearer_client

    return bearer_client(user)
