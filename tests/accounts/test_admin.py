"""Every tenant changelist reads a bounded number of queries, whatever the number of rows."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.admin import TenantAdmin
from accounts.models import Organization
from tests.factories import tenant_factories

TENANT_ADMINS = sorted(
    (pair for pair in admin.site._registry.items() if isinstance(pair[1], TenantAdmin)),
    key=lambda pair: pair[0]._meta.label,
)


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(("model", "model_admin"), TENANT_ADMINS, ids=[m._meta.label for m, _ in TENANT_ADMINS])
def test_a_changelist_of_100_rows_queries_no_more_than_one_of_5(model, model_admin, admin_client):
    """Each row in its own organization (some models allow one per organization); the superuser sees all."""
    factory = tenant_factories()[model]
    counter = iter(range(1000))

    def make():
        n = next(counter)
        factory(Organization.objects.create(name=f"Org {n}", slug=f"org-{n}"))

    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    for _ in range(5):
        make()
    few = queries_of(admin_client, url)
    for _ in range(95):
        make()

    many = queries_of(admin_client, url)

    assert many <= few + 1, f"{model._meta.label}: {few} queries for 5 rows, {many} for 100"
    assert many <= 20
