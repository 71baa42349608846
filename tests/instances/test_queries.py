import pytest

from instances.queries import webhook_caller_by_name
from tests.factories.instances import EvolutionInstanceFactory

pytestmark = pytest.mark.django_db


def test_a_webhook_caller_is_the_named_instances_ids_and_credentials(org_a):
    instance = EvolutionInstanceFactory(organization=org_a, instance_name="loja-q", api_key="k-1234")

    caller = webhook_caller_by_name("loja-q")

    assert caller == (instance.id, org_a.id, instance.webhook_secret, "k-1234")
    assert (caller.id, caller.organization_id, caller.api_key) == (instance.id, org_a.id, "k-1234")
    assert webhook_caller_by_name("loja-z") is None and webhook_caller_by_name("") is None
