"""A choice step's document: checked (Meta's limits on Cloud numbers), written, exported and imported."""

import pytest

from flows.choice_design import choice_document, choice_problems, normalized, write_choice
from flows.models import ChoiceOption, Flow, FlowTemplate, WaitTimeout
from flows.transfer import TransferError, export_template, import_template
from tests.factories.flows import FlowMessageFactory, SubflowFactory, flow_for
from tests.factories.instances import WhatsAppInstanceFactory

pytestmark = pytest.mark.django_db

LABELS = ["Opção A", "Opção B", "Falar com o suporte", "Preços e prazos", "Sair"]


@pytest.fixture
def menu(org_a):
    flow = flow_for(org_a, is_default=True, name="Principal")
    main = SubflowFactory(flow=flow, name="Menu", order_index=0)
    branch = SubflowFactory(flow=flow, name="Ramo B", order_index=1)
    other = SubflowFactory(flow=flow, name="Outro", order_index=2)
    FlowMessageFactory(subflow=branch, text="ramo B")
    FlowMessageFactory(subflow=other, text="outro")
    message = FlowMessageFactory(subflow=main, text="Como podemos ajudar?")
    return message, branch, other


def five(branch=None, other=None):
    options = [{"label": label} for label in LABELS]
    options[1]["goto"] = branch
    return normalized({"options": options, "other": other, "list_button": "Ver opções"})


def test_keys_come_from_the_labels_when_left_out():
    assert [o["key"] for o in five()["options"]] == [
        "opcao-a",
        "opcao-b",
        "falar-com-o-suporte",
        "precos-e-prazos",
        "sair",
    ]


def test_a_written_step_reads_back_and_bumps_the_flow(menu):
    message, branch, other = menu
    version = Flow.objects.get(id=branch.flow_id).content_version
    document = five(branch, other)
    assert choice_problems(message, document) == {}

    write_choice(message, document)

    read = choice_document(message)
    assert [o["label"] for o in read["options"]] == LABELS
    assert read["options"][1]["goto"] == branch and read["other"] == other and read["max_reprompts"] == 2
    assert Flow.objects.get(id=branch.flow_id).content_version > version


def test_problems_name_the_option(menu):
    message, _, _ = menu
    one = normalized({"options": [{"label": "Só uma"}]})
    assert choice_problems(message, one) == {"options": "A choice has 2 to 10 options, not 1."}
    twice = normalized({"options": [{"label": "Sim"}, {"label": "sim", "key": "s2"}]})
    assert choice_problems(message, twice) == {"options": 'Option 2 "sim": two options have this label.'}
    blank = normalized({"options": [{"label": "Sim"}, {"label": " "}]})
    assert choice_problems(message, blank)["options[1].label"] == "Required."
    bad_key = normalized({"options": [{"label": "Sim", "key": "com espaço"}, {"label": "Não"}]})
    assert "options[0].key" in choice_problems(message, bad_key)


def test_a_subflow_of_another_flow_is_refused(menu, org_a):
    message, _, _ = menu
    stranger = SubflowFactory(flow=flow_for(org_a))
    assert choice_problems(message, five(other=stranger)) == {"other": "Must be a subflow of the same flow."}


def test_meta_limits_apply_once_the_organization_has_a_cloud_number(menu, org_a):
    message, _, _ = menu
    long = normalized({"options": [{"label": "Sim"}, {"label": "Sair e voltar outro dia, obrigado"}]})
    assert choice_problems(message, long) == {}
    WhatsAppInstanceFactory(organization=org_a, provider="cloud")
    assert choice_problems(message, long) == {
        "options": 'Option 2 "Sair e voltar outro dia, obrigado": a button title has at most 20 characters.'
    }


def test_export_import_export_keeps_the_step(menu, org_a):
    message, branch, other = menu
    write_choice(message, five(branch, other))
    WaitTimeout.objects.create(message=message, after_minutes=1440, subflow=other)
    template = FlowTemplate.objects.get(flows__subflows=branch)
    exported = export_template(template)
    choice = exported["template"]["flows"][0]["subflows"][0]["messages"][0]["choice"]
    assert choice["options"][1] == {"key": "opcao-b", "label": "Opção B", "description": "", "goto": 1}
    assert choice["other"] == 2
    assert exported["template"]["flows"][0]["subflows"][0]["messages"][0]["no_reply"] == {
        "after_minutes": 1440,
        "goto": 2,
    }

    copy = import_template(organization=org_a, document=exported)

    assert export_template(copy) == exported
    copied = ChoiceOption.objects.get(message__subflow__flow__template=copy, key="opcao-b")
    assert copied.target_subflow.name == "Ramo B" and copied.target_subflow.flow.template == copy


def test_a_bad_choice_in_an_import_is_named_and_rolls_back(menu, org_a):
    message, branch, other = menu
    write_choice(message, five(branch, other))
    exported = export_template(FlowTemplate.objects.get(flows__subflows=branch))
    choice = exported["template"]["flows"][0]["subflows"][0]["messages"][0]["choice"]
    choice["options"][3]["goto"] = 7
    count = FlowTemplate.objects.count()
    with pytest.raises(TransferError) as error:
        import_template(organization=org_a, document=exported)
    assert error.value.path == "template.flows[0].subflows[0].messages[0].choice.options[3].goto"
    choice["options"][3]["goto"] = None
    choice["options"][4]["label"] = ""
    with pytest.raises(TransferError) as error:
        import_template(organization=org_a, document=exported)
    assert error.value.path == "template.flows[0].subflows[0].messages[0].choice.options[4].label"
    assert FlowTemplate.objects.count() == count


def test_a_bad_no_reply_timer_in_an_import_is_named(menu, org_a):
    message, _, other = menu
    WaitTimeout.objects.create(message=message, after_minutes=60, subflow=other)
    exported = export_template(FlowTemplate.objects.get(flows__subflows=other))
    exported["template"]["flows"][0]["subflows"][0]["messages"][0]["no_reply"]["after_minutes"] = 0
    with pytest.raises(TransferError) as error:
        import_template(organization=org_a, document=exported)
    assert error.value.path == "template.flows[0].subflows[0].messages[0].no_reply.after_minutes"
