"""The rows the contract's examples name by id: chatbot 1, flow 2, WhatsApp number 3, contacts 10 and 11.

The examples are sent as written, so those ids must exist in the caller's organization.
Rows are created with those ids, then the tables' next ids are moved past them so rows
created later (by the API) never collide, on PostgreSQL and on SQLite.
"""

import pytest
import time_machine

from campaigns.models import Campaign, Schedule
from contacts.models import Contact
from flows.models import Flow, FlowMessage, FlowTemplate, Subflow
from instances.models import WhatsAppInstance
from tests.support.contract import NOW, create_automation
from tests.support.sequences import set_next_id, skip_ids_past


@pytest.fixture
def contract_rows(org_a):
    template = FlowTemplate.objects.create(id=1, organization=org_a, name="Atendimento Loja")
    flow = Flow.objects.create(id=2, template=template, name="Oferta", is_default=True)
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
    skip_ids_past(FlowTemplate, Flow, Subflow, FlowMessage, WhatsAppInstance, Contact)
    return {"template": template, "flow": flow, "subflow": subflow, "instance": instance, "contacts": contacts}


@pytest.fixture
def clock():
    """The schedules' tests run at `NOW` (frozen) unless they move it."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def contract_ids(db):
    """The next automation gets id 1 and the next schedule id 7, as the contract's examples have them."""
    set_next_id(Campaign, 1)
    set_next_id(Schedule, 7)


@pytest.fixture
def automation(alice_client, contract_rows, contract_ids) -> dict:
    body = create_automation(alice_client)
    assert body["id"] == 1
    return body


@pytest.fixture
def eager(settings):
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
