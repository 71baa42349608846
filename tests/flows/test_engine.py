"""The engine's decisions, without a database."""

import random
from dataclasses import replace

from flows import engine
from flows.choices import ChoiceSpec, OptionSpec
from flows.engine import FlowSpec, Inbound, Media, MessageSpec, Position, SubflowSpec


def msg(id, subflow=1, **kwargs):
    return MessageSpec(id=id, subflow_id=subflow, texts=(kwargs.pop("text", f"m{id}"),), **kwargs)


MAIN = SubflowSpec(
    id=1,
    messages=(msg(1), msg(2, wait="reply", variable_name="answer"), msg(3, text="fim {{answer}}")),
)
PRICES = SubflowSpec(id=2, parent_id=1, keywords=("preço",), messages=(msg(20, 2), msg(21, 2, delay_seconds=60)))
FILES = SubflowSpec(
    id=3,
    keywords=("documento",),
    messages=(msg(30, 3, wait="file", expected_file_types=("pdf",), reprompt_text="Mande o PDF"), msg(31, 3)),
)
FLOW = FlowSpec(id=1, subflows=(MAIN, PRICES, FILES))


def texts(decision):
    return [o.text for o in decision.outgoing]


def test_start_sends_up_to_the_first_wait():
    decision = engine.start(FLOW, {})
    assert texts(decision) == ["m1", "m2"]
    assert decision.position == Position(1, 2, "reply")


def test_an_empty_flow_completes_at_once():
    assert engine.start(FlowSpec(id=9), {}).completed


def test_a_reply_without_keyword_goes_on_and_is_kept():
    decision = engine.on_inbound(FLOW, Position(1, 2, "reply"), Inbound(text="talvez"), {})
    assert texts(decision) == ["fim talvez"]
    assert decision.completed and decision.variables == {"last_reply": "talvez", "answer": "talvez"}


def test_a_keyword_jumps_and_a_delay_is_scheduled():
    decision = engine.on_inbound(FLOW, Position(1, 2, "reply"), Inbound(text="e o PRECO?"), {})
    assert decision.jumped_to == 2 and decision.reason == "keyword"
    assert [(o.text, o.delay_seconds, o.continues) for o in decision.outgoing] == [("m20", 0, False), ("m21", 60, True)]
    assert decision.position == Position(2, 21, "delay")


def test_after_the_delayed_send_the_flow_goes_on_to_its_end():
    decision = engine.after_delayed_send(FLOW, Position(2, 21, "delay"), {})
    assert decision.completed and texts(decision) == []


def test_waiting_for_a_file_reprompts_refuses_and_accepts():
    waiting = Position(3, 30, "file")
    text = engine.on_inbound(FLOW, waiting, Inbound(text="já vai"), {})
    wrong = engine.on_inbound(FLOW, waiting, Inbound(media=Media(url="https://x/foto.png")), {})
    right = engine.on_inbound(FLOW, waiting, Inbound(media=Media(url="https://x/rg.pdf")), {})

    assert texts(text) == ["Mande o PDF"] and text.position == waiting and not text.changes_position
    assert wrong.reason == "wrong_file_type" and wrong.position == waiting
    assert "pdf" in texts(wrong)[0] and "Mande o PDF" in texts(wrong)[0]
    assert right.accept_file.id == 30 and texts(right) == ["m31"] and right.completed
    assert right.variables["last_file"] == "https://x/rg.pdf"


def test_text_while_a_delay_is_pending_is_ignored_unless_a_keyword():
    assert engine.on_inbound(FLOW, Position(2, 21, "delay"), Inbound(text="ok"), {}).reason == "ignored"
    assert engine.on_inbound(FLOW, Position(2, 21, "delay"), Inbound(text="documento"), {}).jumped_to == 3


def test_children_keywords_are_tried_first():
    sibling = SubflowSpec(id=4, keywords=("preço",), messages=(msg(40, 4),))
    flow = FlowSpec(id=1, subflows=(MAIN, sibling, PRICES))
    assert engine.on_inbound(flow, Position(1, 2, "reply"), Inbound(text="preço"), {}).jumped_to == 2


def test_a_stale_position_completes():
    assert engine.on_inbound(FLOW, Position(1, 999, "reply"), Inbound(text="oi"), {}).completed


def test_variations_are_chosen_at_random_per_contact():
    varied = FlowSpec(
        id=1, subflows=(SubflowSpec(id=1, messages=(MessageSpec(id=1, subflow_id=1, texts=("a", "b", "c")),)),)
    )
    seen = {engine.start(varied, {}, random.Random(seed)).outgoing[0].text for seed in range(30)}
    assert seen == {"a", "b", "c"}


def test_unfilled_placeholders_are_those_nothing_sets():
    action = msg(
        40,
        4,
        text="",
        action="pontta_create_ticket",
        action_config={
            "params": {"subject": "{{order}}", "message": "{{ticket_note}}"},
            "outputs": {"ticket_id": "id"},
        },
    )
    flow = FlowSpec(
        id=2,
        subflows=(
            MAIN,
            FILES,
            SubflowSpec(
                id=4, messages=(action, msg(41, 4, text="{{ticket_id}} {{contact.company}} {{event.id}} {{nome}}"))
            ),
        ),
    )

    unfilled = engine.unfilled_placeholders(flow, {"order"})

    assert [(message.id, name) for message, name in unfilled] == [(40, "ticket_note"), (41, "event.id"), (41, "nome")]
    assert [name for _m, name in engine.unfilled_placeholders(flow, {"order", "ticket_note", "event", "nome"})] == []


# A choice step: message 40 offers A (on in order), B (to subflow 5) and C; "other" goes to subflow 6.
CHOICE = ChoiceSpec(
    options=(OptionSpec("a", "Opção A"), OptionSpec("b", "Opção B", target_subflow_id=5), OptionSpec("c", "Opção C")),
    other_subflow_id=6,
    max_reprompts=2,
    reprompt_text="Não entendi.",
)
MENU = SubflowSpec(
    id=4,
    messages=(
        msg(40, 4, text="Escolha, {{name}}:", choice=CHOICE, wait="choice", variable_name="menu"),
        msg(41, 4, text="seguiu"),
    ),
)
BRANCH_B = SubflowSpec(id=5, messages=(msg(50, 5, text="ramo B"),))
OTHER = SubflowSpec(id=6, messages=(msg(60, 6, text="outro"),))
SALES = SubflowSpec(id=7, keywords=("vendas",), messages=(msg(70, 7, text="vendas"),))
CHOICE_FLOW = FlowSpec(id=2, subflows=(MENU, BRANCH_B, OTHER, SALES))
AT_CHOICE = Position(4, 40, "choice")


def test_a_choice_step_waits_for_a_choice():
    decision = engine.start(CHOICE_FLOW, {"name": "Ana"})
    assert texts(decision) == ["Escolha, Ana:"] and decision.outgoing[0].message.choice == CHOICE
    assert decision.position == AT_CHOICE


def test_a_picked_option_goes_to_its_subflow_and_is_kept():
    decision = engine.on_inbound(CHOICE_FLOW, AT_CHOICE, Inbound(text="opcao b"), {})
    assert texts(decision) == ["ramo B"] and decision.jumped_to == 5 and decision.reason == "chose"
    assert decision.variables == {"last_reply": "Opção B", "last_choice": "b", "menu": "Opção B"}


def test_an_option_without_a_subflow_goes_on_in_order():
    decision = engine.on_inbound(CHOICE_FLOW, AT_CHOICE, Inbound(tap_id="a"), {})
    assert texts(decision) == ["seguiu"] and decision.completed


def test_invalid_replies_reprompt_then_take_the_other_branch():
    variables = {"name": "Ana"}
    for attempt in (1, 2):
        decision = engine.on_inbound(CHOICE_FLOW, AT_CHOICE, Inbound(text="hã?"), variables)
        assert decision.reason == "reprompt" and not decision.changes_position
        assert texts(decision) == ["Não entendi.\nEscolha, Ana:"] and decision.outgoing[0].message.id == 40
        assert decision.variables[engine.CHOICE_MISSES] == attempt
        variables = decision.variables
    decision = engine.on_inbound(CHOICE_FLOW, AT_CHOICE, Inbound(text="hã?"), variables)
    assert texts(decision) == ["outro"] and decision.reason == "other" and decision.jumped_to == 6
    assert engine.CHOICE_MISSES not in decision.variables


def test_a_pick_after_a_miss_clears_the_count():
    decision = engine.on_inbound(CHOICE_FLOW, AT_CHOICE, Inbound(text="3"), {engine.CHOICE_MISSES: 1})
    assert decision.variables["last_choice"] == "c" and engine.CHOICE_MISSES not in decision.variables


def test_options_are_tried_before_subflow_keywords():
    keyword = engine.on_inbound(CHOICE_FLOW, AT_CHOICE, Inbound(text="quero vendas"), {})
    assert keyword.jumped_to == 7 and keyword.reason == "keyword"
    option = SubflowSpec(
        id=4,
        messages=(
            msg(40, 4, choice=ChoiceSpec(options=(OptionSpec("v", "vendas"), OptionSpec("x", "x"))), wait="choice"),
        ),
    )
    decision = engine.on_inbound(FlowSpec(id=3, subflows=(option, SALES)), AT_CHOICE, Inbound(text="Vendas"), {})
    assert decision.reason == "chose" and decision.variables["last_choice"] == "v"


# Keyword precedence: "atendente" is global, "menu" (the entry subflow's) and "vendas" are not.
ENTRY = SubflowSpec(
    id=8,
    keywords=("menu",),
    messages=(
        msg(80, 8, text="Menu:", choice=CHOICE, wait="choice"),
        msg(81, 8, wait="reply"),
        msg(82, 8, wait="file"),
    ),
)
HUMAN = SubflowSpec(id=9, keywords=("atendente", "opção a"), is_global=True, messages=(msg(90, 9, text="chamando"),))
KEYWORD_FLOW = FlowSpec(id=4, subflows=(ENTRY, BRANCH_B, OTHER, SALES, HUMAN))


def test_a_global_keyword_wins_over_a_choices_options_and_a_file_wait():
    for position in (Position(8, 80, "choice"), Position(8, 81, "reply"), Position(8, 82, "file")):
        decision = engine.on_inbound(KEYWORD_FLOW, position, Inbound(text="Opção A"), {})
        assert decision.jumped_to == 9 and texts(decision) == ["chamando"], position
    decision = engine.on_inbound(KEYWORD_FLOW, Position(8, 82, "file"), Inbound(text="quero um atendente"), {})
    assert decision.jumped_to == 9


def test_a_keyword_that_is_not_global_does_not_restart_a_running_conversation():
    decision = engine.on_inbound(KEYWORD_FLOW, Position(8, 81, "reply"), Inbound(text="menu"), {})
    assert decision.jumped_to is None and decision.reason == "next"
    mid_choice = engine.on_inbound(KEYWORD_FLOW, Position(8, 80, "choice"), Inbound(text="menu"), {})
    assert mid_choice.reason == "reprompt"
    global_menu = FlowSpec(id=5, subflows=(replace(ENTRY, is_global=True), BRANCH_B, OTHER))
    restarted = engine.on_inbound(global_menu, Position(8, 81, "reply"), Inbound(text="menu"), {})
    assert restarted.jumped_to == 8 and texts(restarted) == ["Menu:"]


def test_a_timeout_goes_to_its_subflow_or_on_in_order():
    decision = engine.after_timeout(CHOICE_FLOW, AT_CHOICE, {engine.CHOICE_MISSES: 1}, subflow_id=6)
    assert texts(decision) == ["outro"] and decision.reason == "timed_out" and decision.variables == {}
    on = engine.after_timeout(CHOICE_FLOW, AT_CHOICE, {}, subflow_id=None)
    assert texts(on) == ["seguiu"] and on.reason == "timed_out"
    assert engine.after_timeout(CHOICE_FLOW, Position(4, 999, "choice"), {}, subflow_id=6).reason == "stale_position"


def test_a_choice_left_without_options_waits_like_a_reply():
    plain = SubflowSpec(id=4, messages=(msg(40, 4, text="Escolha"), msg(41, 4, text="seguiu")))
    decision = engine.on_inbound(FlowSpec(id=6, subflows=(plain,)), AT_CHOICE, Inbound(text="2"), {})
    assert texts(decision) == ["seguiu"] and decision.variables == {"last_reply": "2"}
