"""The rows the contract's examples name by id: chatbot 1, flow 2, WhatsApp number 3, contacts 10 and 11.

The examples are sent as written, so those ids must exist in the caller's organization.
Rows are created with those ids, then the tables' sequences are moved past them so rows
created later (by the API) never collide.
"""

import itertools

import pytest
from django.db import connection

from contacts.models import Contact
from flows.models import Flow, FlowMessage, FlowTemplate, Subflow
from instances.models import WhatsAppInstance

_FLOW_VERSIONS = itertools.count(1)


def _bump_sequences(*models):
    # setval is not rolled back with the test's transaction: only ever move a sequence forward,
    # or later tests get ids again that a per-process cache (the engine's flow specs) still knows.
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            cursor.execute(
                f"SELECT setval('{sequence}', GREATEST((SELECT COALESCE(MAX(id), 1) FROM {table}), "
                f"(SELECT last_value FROM {sequence}), 1000), true)"
            )


@pytest.fixture
def contract_rows(org_a):
    template = FlowTemplate.objects.create(id=1, organization=org_a, name="Atendimento Loja")
    # Flow 2 is created again by every test: a new content version keeps the engine's per-process
    # spec cache, keyed by (id, version), from serving a previous test's flow 2.
    flow = Flow.objects.create(
        id=2, template=template, name="Oferta", is_default=True, content_version=next(_FLOW_VERSIONS) * 1000
    )
    subflow = Subflow.objects.create(flow=flow, name="Início")
    FlowMessage.objects.create(subflow=subflow, text="Olá {{customer_name}}, seu desconto é {{discount}}")
    instance = WhatsAppInstance.objects.create(
        id=3, organization=org_a, name="Sandbox", provider=WhatsAppInstance.Provider.SANDBOX, connection_state="open"
    )
    contacts = [
        Contact.objects.create(
            id=contact_id,
            organization=org_a,
            phone=phone,
            name=name,
            custom_fields={"loyalty_points": "120", "company": "ACME"},
        )
        for contact_id, phone, name in ((10, "+5511988880010", "Ana"), (11, "+5511988880011", "Bia"))
    ]
    _bump_sequences(FlowTemplate, Flow, Subflow, FlowMessage, WhatsAppInstance, Contact)
    return {"template": template, "flow": flow, "subflow": subflow, "instance": instance, "contacts": contacts}
