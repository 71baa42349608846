"""The admin's flow pages and simulator."""

import pytest

from flows import demo
from flows.models import Conversation, Flow, SystemSetting
from instances.models import SandboxMessage
from tests.factories.flows import flow_for
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_alice(alice, client):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    from django.contrib.auth.models import Permission

    alice.user_permissions.set(Permission.objects.filter(content_type__app_label="flows"))
    client.force_login(alice)
    return client


def test_the_simulator_answers_through_the_sandbox(staff_alice, org_a):
    demo.seed(org_a)
    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    sandbox = WhatsAppInstanceFactory(organization=org_a, connection_state="open")
    flow = Flow.objects.get(template__organization=org_a)
    url = f"/admin/flows/flow/{flow.id}/simulate/"

    assert staff_alice.get(url).status_code == 200
    staff_alice.post(url, {"text": "oi"})
    staff_alice.post(url, {"text": "qual o preço?"})
    page = staff_alice.get(url).content.decode()

    conversation = Conversation.objects.get(instance=sandbox)
    assert conversation.subflow.name == "Preços"
    assert "Camisetas a partir de R$ 49,90" in page
    assert "qual o preço?" in page
    sent = list(SandboxMessage.objects.filter(instance=sandbox).order_by("id").values_list("text", flat=True))
    assert any("Como posso ajudar?" in text for text in sent)
    assert sent[-1].startswith("Camisetas")


def test_another_organizations_flow_has_no_simulator(staff_alice, org_b):
    flow = flow_for(org_b)
    assert staff_alice.get(f"/admin/flows/flow/{flow.id}/simulate/").status_code == 404


@pytest.mark.parametrize("model", ["flowtemplate", "flow", "subflow", "conversation", "receivedfile", "systemsetting"])
def test_admin_lists_open(staff_alice, org_a, model):
    demo.seed(org_a)
    assert staff_alice.get(f"/admin/flows/{model}/").status_code == 200
