"""Export/import carries action steps by integration name (never secrets)."""

import json

import pytest

from flows.models import FlowMessage, Subflow
from flows.transfer import TransferError, export_template, import_template
from tests.factories.flows import flow_for

pytestmark = pytest.mark.django_db


def test_an_exported_action_names_its_integration_and_no_secret(org_a, org_b, pontta_integration):
    flow = flow_for(org_a)
    main = Subflow.objects.create(flow=flow, name="Main")
    failure = Subflow.objects.create(flow=flow, name="Erro", order_index=1)
    FlowMessage.objects.create(subflow=failure, text="Falhou")
    FlowMessage.objects.create(
        subflow=main,
        action="pontta_create_ticket",
        action_config={"integration": "pontta-loja", "params": {"subject": "s", "message": "m"}},
        on_error_subflow=failure,
    )

    document = export_template(flow.template)
    text = json.dumps(document)

    assert "pontta-loja" in text
    assert "s3cret" not in text and pontta_integration.secrets_encrypted not in text
    [message] = document["template"]["flows"][0]["subflows"][0]["messages"]
    assert message["action"] == "pontta_create_ticket" and message["on_error"] == 1

    copy = import_template(organization=org_b, document=document)
    imported = FlowMessage.objects.get(subflow__flow__template=copy, action="pontta_create_ticket")
    assert imported.on_error_subflow.name == "Erro" and imported.on_error_subflow.flow_id == imported.subflow.flow_id
    assert export_template(copy) == {**document, "template": {**document["template"]}}


@pytest.mark.parametrize(
    ("message", "path"),
    [
        (
            {"action": "pontta_create_ticket", "action_config": {"integration": "p", "params": {"subject": "s"}}},
            "action_config",
        ),
        ({"action": "teleport", "action_config": {}}, "action"),
        ({"action": "http_request", "action_config": {"params": {"url": "x"}}, "on_error": 7}, "on_error"),
    ],
)
def test_a_bad_action_in_an_import_names_its_path(org_a, message, path):
    document = {
        "format": "whatsflow.flows/1",
        "template": {"name": "T", "flows": [{"name": "F", "subflows": [{"name": "S", "messages": [message]}]}]},
    }
    with pytest.raises(TransferError) as error:
        import_template(organization=org_a, document=document)
    assert error.value.path.endswith(path)
