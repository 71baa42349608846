"""The old chatbot's export document: its nulls, imported as empty."""

import pytest

from flows.models import FlowTemplate
from flows.transfer import TransferError, import_template
from flows.transfer_legacy import import_legacy

pytestmark = pytest.mark.django_db


def test_an_old_export_with_null_descriptions_imports(org_a, alice):
    document = {
        "template": {"id": "t1", "name": "Loja", "description": None, "created_by": None},
        "flows": [
            {
                "id": "f1",
                "name": "Principal",
                "description": None,
                "is_default": True,
                "subflows": [{"id": "s1", "name": "Início", "description": None, "messages": []}],
            }
        ],
    }

    template = import_legacy(organization=org_a, document=document, created_by=alice)

    assert (template.name, template.description) == ("Imported - Loja", "")
    flow = template.flows.get()
    assert flow.description == flow.subflows.get().description == ""


def test_a_null_where_no_value_is_allowed_is_an_error_naming_the_field(org_a):
    document = {"format": "whatsflow.flows/1", "template": {"name": "Loja", "is_active": None}}

    with pytest.raises(TransferError) as error:
        import_template(organization=org_a, document=document)

    assert error.value.path == "template.is_active"
    assert not FlowTemplate.objects.exists()
