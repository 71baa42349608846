"""The admin's choice editor (a message's options as inlines), then the step answered in the simulator."""

import pytest
from django.contrib.auth.models import Permission

from flows.models import ChoiceOption, ChoiceStep, SystemSetting
from instances.models import SandboxMessage
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import WhatsAppInstanceFactory
from tests.support.campaign_admin import form_data

pytestmark = pytest.mark.django_db

LABELS = ["Opção A", "Opção B", "Falar com o suporte", "Preços e prazos", "Sair"]


@pytest.fixture
def staff_alice(alice, client):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    alice.user_permissions.set(Permission.objects.filter(content_type__app_label="flows"))
    client.force_login(alice)
    return client


@pytest.fixture
def menu(org_a):
    flow = flow_for(org_a, is_default=True, name="Atendimento")
    main = SubflowFactory(flow=flow, name="Menu", order_index=0)
    branch = SubflowFactory(flow=flow, name="Ramo B", order_index=1)
    other = SubflowFactory(flow=flow, name="Outro", order_index=2)
    FlowMessageFactory(subflow=branch, text="Você escolheu B")
    FlowMessageFactory(subflow=other, text="Vou chamar alguém")
    message = FlowMessageFactory(subflow=main, text="Como podemos ajudar?")
    return message, branch, other


def url(message):
    return f"/admin/flows/flowmessage/{message.id}/change/"


def options_post(page, labels, *, goto=None, other=None):
    data = form_data(page)
    data["choice_options-TOTAL_FORMS"] = str(len(labels))
    for i, label in enumerate(labels):
        data[f"choice_options-{i}-order_index"] = str(i)
        data[f"choice_options-{i}-label"] = label
        data[f"choice_options-{i}-message"] = str(page.context["original"].id)
    if goto is not None:
        data["choice_options-1-target_subflow"] = str(goto.id)
    data["choice-TOTAL_FORMS"] = "1"
    data["choice-0-max_reprompts"] = "1"
    data["choice-0-reprompt_text"] = "Não entendi."
    if other is not None:
        data["choice-0-other_subflow"] = str(other.id)
    return data


def test_the_subflow_page_links_each_message_to_its_options(staff_alice, menu):
    message, _, _ = menu
    page = staff_alice.get(f"/admin/flows/subflow/{message.subflow_id}/change/").content.decode()
    assert url(message) in page and "Make it a choice" in page


def test_an_operator_builds_a_menu_and_a_contact_answers_it(staff_alice, menu, org_a):
    message, branch, other = menu
    page = staff_alice.get(url(message))
    assert page.status_code == 200

    response = staff_alice.post(url(message), options_post(page, LABELS, goto=branch, other=other))

    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert list(ChoiceOption.objects.filter(message=message).values_list("key", flat=True)) == [
        "opcao-a",
        "opcao-b",
        "falar-com-o-suporte",
        "precos-e-prazos",
        "sair",
    ]
    assert ChoiceStep.objects.get(message=message).other_subflow == other

    SystemSetting.objects.create(organization=org_a, key="MESSAGE_COOLDOWN", value="0", value_type="number")
    sandbox = WhatsAppInstanceFactory(organization=org_a, connection_state="open")
    simulate = f"/admin/flows/flow/{branch.flow_id}/simulate/"
    staff_alice.post(simulate, {"text": "oi"})
    staff_alice.post(simulate, {"text": "opcao b"})
    staff_alice.post(simulate, {"restart": "1", "text": "oi"})
    staff_alice.post(simulate, {"text": "hein?"})
    staff_alice.post(simulate, {"text": "não sei"})

    sent = list(SandboxMessage.objects.filter(instance=sandbox).order_by("id").values_list("text", flat=True))
    numbered = "Como podemos ajudar?\n\n1. Opção A\n2. Opção B\n3. Falar com o suporte\n4. Preços e prazos\n5. Sair"
    assert sent == [
        numbered,
        "Você escolheu B",
        numbered,
        "Não entendi.\n" + numbered,
        "Vou chamar alguém",
    ]


def test_the_admin_refuses_a_step_the_api_would_refuse(staff_alice, menu, org_a):
    message, _, _ = menu
    page = staff_alice.get(url(message))
    one = staff_alice.post(url(message), options_post(page, ["Só uma"]))
    assert one.status_code == 200 and "A choice has 2 to 10 options, not 1." in one.content.decode()
    WhatsAppInstanceFactory(organization=org_a, provider="cloud")
    long = staff_alice.post(url(message), options_post(page, ["Sim", "Não, prefiro falar depois"]))
    assert long.status_code == 200
    assert "a button title has at most 20 characters" in long.content.decode()
    assert not ChoiceOption.objects.filter(message=message).exists()


def test_another_organizations_message_is_not_found(staff_alice, org_b):
    stranger = FlowMessageFactory(subflow=SubflowFactory(flow=flow_for(org_b)))
    assert staff_alice.get(url(stranger)).status_code in (302, 404)


def test_a_no_reply_timer_is_set_on_the_same_page(staff_alice, menu):
    message, _, other = menu
    page = staff_alice.get(url(message))
    data = form_data(page)
    data["wait_timeout-TOTAL_FORMS"] = "1"
    data["wait_timeout-0-after_minutes"] = "90"
    data["wait_timeout-0-subflow"] = str(other.id)
    response = staff_alice.post(url(message), data)
    assert response.status_code == 302
    assert (message.wait_timeout.after_minutes, message.wait_timeout.subflow) == (90, other)
