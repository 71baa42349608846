"""`/api/v1/flow-messages/<id>/choice`: read, replace and remove a choice step."""

import pytest

from flows.models import ChoiceOption, ChoiceStep
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def menu(org_a):
    flow = flow_for(org_a, is_default=True)
    main = SubflowFactory(flow=flow, name="Menu")
    branch = SubflowFactory(flow=flow, name="Ramo B", order_index=1)
    return FlowMessageFactory(subflow=main, text="Escolha:"), branch


def url(message):
    return f"/api/v1/flow-messages/{message.id}/choice"


def body(branch, **extra):
    return {
        "options": [{"label": "Opção A"}, {"label": "Opção B", "goto": branch.id}, {"key": "x", "label": "Outra"}],
        "max_reprompts": 1,
        **extra,
    }


def test_put_writes_the_step_and_get_reads_it(alice_client, menu):
    message, branch = menu
    assert alice_client.get(url(message)).status_code == 404

    response = alice_client.put(url(message), body(branch, other=branch.id), format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["options"][1] == {"key": "opcao-b", "label": "Opção B", "description": "", "goto": branch.id}
    assert alice_client.get(url(message)).json() == response.json()
    assert ChoiceStep.objects.get(message=message).max_reprompts == 1


def test_bad_bodies_get_a_400_naming_the_field(alice_client, menu, org_a):
    message, branch = menu
    one = alice_client.put(url(message), {"options": [{"label": "Só"}]}, format="json")
    assert one.status_code == 400, one.json()
    assert "A choice has 2 to 10 options, not 1." in str(one.json()), one.json()
    bad = alice_client.put(url(message), body(branch, max_reprompts=9), format="json")
    assert bad.status_code == 400 and "max_reprompts" in str(bad.json())
    WhatsAppInstanceFactory(organization=org_a, provider="cloud")
    long = body(branch)
    long["options"][2]["label"] = "Uma opção longa demais para um botão"
    cloud = alice_client.put(url(message), long, format="json")
    assert cloud.status_code == 400 and 'Option 3 \\"Uma opção longa demais' in cloud.content.decode()
    assert not ChoiceOption.objects.filter(message=message).exists()


def test_another_organizations_subflow_and_message_are_not_found(alice_client, charlie_client, menu, org_b):
    message, branch = menu
    assert charlie_client.put(url(message), body(branch), format="json").status_code == 404
    stranger = SubflowFactory(flow=flow_for(org_b))
    response = alice_client.put(url(message), body(branch, other=stranger.id), format="json")
    assert response.status_code == 400 and "other" in str(response.json())


def test_viewers_read_but_cannot_write(vera_client, menu):
    message, branch = menu
    assert vera_client.put(url(message), body(branch), format="json").status_code == 403


def test_delete_removes_the_step(alice_client, menu):
    message, branch = menu
    alice_client.put(url(message), body(branch), format="json")
    assert alice_client.delete(url(message)).status_code == 204
    assert not ChoiceOption.objects.filter(message=message).exists()
