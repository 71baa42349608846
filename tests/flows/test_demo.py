"""The demo seed of `make run`."""

import pytest

from flows import demo
from flows.models import Flow, FlowMessage, FlowTemplate

pytestmark = pytest.mark.django_db


def test_the_demo_seed_is_idempotent_and_answers(org_a):
    demo.seed(org_a)
    demo.seed(org_a)

    template = FlowTemplate.objects.get(organization=org_a)
    flow = Flow.objects.get(template=template)
    assert flow.is_default and flow.subflows.count() == 4
    assert FlowMessage.objects.filter(subflow__flow=flow).count() == 8
