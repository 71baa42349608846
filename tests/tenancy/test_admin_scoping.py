"""Staff operators see and edit only their organization's rows in the admin."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.admin import TenantAdmin
from tests.factories import tenant_factories

TENANT_ADMINS = sorted(
    (pair for pair in admin.site._registry.items() if isinstance(pair[1], TenantAdmin)),
    key=lambda pair: pair[0]._meta.label,
)


@pytest.fixture
def staff_bob(bob):
    bob.is_staff = True
    bob.save(update_fields=["is_staff"])
    bob.user_permissions.set(Permission.objects.all())
    return bob


def test_every_tenant_admin_is_covered():
    missing = [model._meta.label for model, _ in TENANT_ADMINS if model not in tenant_factories()]
    assert not missing, f"add a TENANT_FACTORIES entry for: {missing}"


@pytest.mark.parametrize(("model", "model_admin"), TENANT_ADMINS, ids=[m._meta.label for m, _ in TENANT_ADMINS])
def test_staff_see_only_their_organizations_rows(model, model_admin, client, staff_bob, org_a, org_b):
    own = tenant_factories()[model](org_a)
    foreign = tenant_factories()[model](org_b)
    client.force_login(staff_bob)
    opts = model._meta

    changelist = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    shown = {obj.pk for obj in changelist.context["cl"].result_list}
    assert own.pk in shown
    assert foreign.pk not in shown

    change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[foreign.pk])
    response = client.get(change_url)
    # The admin answers a row outside the queryset like a missing one: back to the index.
    assert response.status_code == 302
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[own.pk])).status_code == 200


def test_superusers_see_every_organization(admin_client, org_a, org_b):
    if not TENANT_ADMINS:
        pytest.skip("no tenant admin registered yet")
    model = TENANT_ADMINS[0][0]
    rows = [tenant_factories()[model](org) for org in (org_a, org_b)]
    opts = model._meta
    changelist = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert {row.pk for row in rows} <= {obj.pk for obj in changelist.context["cl"].result_list}
