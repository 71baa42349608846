"""Export/import of flow templates: API and management commands."""

import json

import pytest
from django.core.management import CommandError, call_command

from flows.models import FlowMessage, FlowTemplate, Subflow
from flows.transfer import export_template
from tests.factories.flows import FlowMessageFactory, FlowTemplateFactory, SubflowFactory, flow_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def template(org_a):
    flow = flow_for(org_a, is_default=True, name="Principal")
    main = SubflowFactory(flow=flow, name="Menu", order_index=0)
    FlowMessageFactory(subflow=main, text="Olá {{name}}", variations=["Oi {{name}}", "E aí {{name}}"])
    FlowMessageFactory(subflow=main, text="Escolha", wait_for_response=True, variable_name="escolha")
    child = SubflowFactory(flow=flow, name="Preço", order_index=1, parent=main, trigger_keywords=["preço"])
    FlowMessageFactory(
        subflow=child, text="Envie o PDF", wait_for_file=True, expected_file_types=["pdf"], delay_seconds=5
    )
    return flow.template


def test_export_import_export_gives_the_same_document(alice_client, template, org_a):
    exported = alice_client.get(f"/api/v1/export/flows/{template.id}?format=whatsflow").json()

    response = alice_client.post("/api/v1/import/flows", exported, format="json")

    assert response.status_code == 201
    copy = FlowTemplate.objects.get(id=response.json()["id"])
    assert copy.id != template.id and copy.organization == org_a
    assert export_template(copy) == exported
    assert Subflow.objects.get(flow__template=copy, name="Preço").parent.name == "Menu"


def test_a_bad_field_rolls_the_whole_import_back_and_is_named(alice_client, template):
    exported = alice_client.get(f"/api/v1/export/flows/{template.id}?format=whatsflow").json()
    exported["template"]["flows"][0]["subflows"][1]["messages"][0]["delay_seconds"] = -3

    response = alice_client.post("/api/v1/import/flows", exported, format="json")

    assert response.status_code == 400
    assert "template.flows[0].subflows[1].messages[0].delay_seconds" in response.json()
    assert FlowTemplate.objects.count() == 1
    assert FlowMessage.objects.count() == 3


def test_another_organizations_template_cannot_be_exported(charlie_client, template):
    assert charlie_client.get(f"/api/v1/export/flows/{template.id}").status_code == 404


def test_a_viewer_cannot_import(vera_client, template):
    document = export_template(template)
    assert vera_client.post("/api/v1/import/flows", document, format="json").status_code == 403
    assert FlowTemplate.objects.count() == 1


def test_the_commands_round_trip_through_files(template, org_a, tmp_path):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    call_command("export_flows", str(template.id), output=str(first))
    call_command("import_flows", str(first), organization=org_a.slug)
    copy = FlowTemplate.objects.exclude(id=template.id).get()
    call_command("export_flows", str(copy.id), output=str(second))

    assert json.loads(first.read_text()) == json.loads(second.read_text())


def test_the_import_command_names_the_bad_field(org_a, tmp_path):
    path = tmp_path / "bad.json"
    document = export_template(FlowTemplateFactory(organization=org_a))
    document["template"]["flows"] = [{"name": "x", "subflows": [{"name": "s", "parent": 7}]}]
    path.write_text(json.dumps(document))

    with pytest.raises(CommandError, match=r"template\.flows\[0\]\.subflows\[0\]\.parent"):
        call_command("import_flows", str(path), organization=org_a.slug)
    assert FlowTemplate.objects.count() == 1
