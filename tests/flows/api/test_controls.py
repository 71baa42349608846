"""Export over the API: the old path answers the old document; ours on asking."""

import pytest

from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for

pytestmark = pytest.mark.django_db


def test_export_answers_the_old_shape_and_ours_on_asking(alice_client, org_a):
    subflow = SubflowFactory(flow=flow_for(org_a, is_default=True, name="Principal"), name="Menu")
    FlowMessageFactory(subflow=subflow, text="Olá")
    template = subflow.flow.template

    old = alice_client.get(f"/api/v1/export/flows/{template.id}").json()
    ours = alice_client.get(f"/api/v1/export/flows/{template.id}?format=whatsflow").json()

    assert set(old) == {"template", "flows"} and old["template"]["id"] == template.id
    assert old["flows"][0]["subflows"][0]["messages"][0]["message_text"] == "Olá"
    assert ours["format"] == "whatsflow.flows/1" and ours["template"]["flows"][0]["name"] == "Principal"
    assert alice_client.get(f"/api/v1/export/flows/{template.id}?format=legacy").json() == old
