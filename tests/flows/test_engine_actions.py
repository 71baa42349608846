"""The engine stops at an action step and resumes after its result, without a database."""

from flows import engine
from flows.engine import FlowSpec, Inbound, MessageSpec, Position, SubflowSpec

LOOKUP = MessageSpec(
    id=2,
    subflow_id=10,
    action="sheets_lookup",
    action_config={
        "integration": "google",
        "params": {"spreadsheet_id": "s1", "column": "pedido", "value": "{{order}}", "extra": ["{{name}}", 3]},
        "outputs": {"order_status": "row.status", "missing": "row.nope"},
    },
    on_error_subflow_id=20,
)
FLOW = FlowSpec(
    id=1,
    subflows=(
        SubflowSpec(
            id=10,
            messages=(
                MessageSpec(id=1, subflow_id=10, texts=("Um momento, {{name}}.",)),
                LOOKUP,
                MessageSpec(id=3, subflow_id=10, texts=("Seu pedido está {{order_status}}.",)),
            ),
        ),
        SubflowSpec(id=20, messages=(MessageSpec(id=21, subflow_id=20, texts=("Não consegui consultar.",)),)),
        SubflowSpec(
            id=30, keywords=("atendente",), messages=(MessageSpec(id=31, subflow_id=30, texts=("Chamando.",)),)
        ),
    ),
)
AT_ACTION = Position(10, 2, engine.WAIT_ACTION)


def test_it_stops_at_an_action_with_its_params_rendered():
    decision = engine.start(FLOW, {"name": "Ana", "order": "A100"})

    assert [o.text for o in decision.outgoing] == ["Um momento, Ana."]
    assert decision.position == AT_ACTION
    assert decision.action.message.id == 2
    assert decision.action.params == {"spreadsheet_id": "s1", "column": "pedido", "value": "A100", "extra": ["Ana", 3]}
    assert not decision.completed


def test_after_success_its_outputs_are_variables_and_the_flow_goes_on():
    decision = engine.after_action(
        FLOW, AT_ACTION, {"name": "Ana"}, succeeded=True, result={"found": True, "row": {"status": "enviado"}}
    )

    assert [o.text for o in decision.outgoing] == ["Seu pedido está enviado."]
    assert decision.variables["order_status"] == "enviado" and decision.variables["missing"] == ""
    assert decision.completed and decision.reason == "action_succeeded"


def test_after_a_failure_it_goes_to_the_on_error_subflow():
    decision = engine.after_action(FLOW, AT_ACTION, {}, succeeded=False, result={}, error="HTTP 404")

    assert [o.text for o in decision.outgoing] == ["Não consegui consultar."]
    assert decision.jumped_to == 20 and decision.variables["last_action_error"] == "HTTP 404"


def test_without_an_on_error_subflow_a_failure_goes_on():
    flow = FlowSpec(
        id=1,
        subflows=(
            SubflowSpec(
                id=10,
                messages=(
                    MessageSpec(id=2, subflow_id=10, action="http_request", action_config={"params": {"url": "x"}}),
                    MessageSpec(id=3, subflow_id=10, texts=("Seguimos ({{last_action_error}}).",)),
                ),
            ),
        ),
    )
    decision = engine.after_action(flow, AT_ACTION, {}, succeeded=False, result={}, error="timeout")

    assert [o.text for o in decision.outgoing] == ["Seguimos (timeout)."]


def test_while_an_action_runs_a_keyword_jumps_and_anything_else_is_ignored():
    ignored = engine.on_inbound(FLOW, AT_ACTION, Inbound(text="oi?"), {})
    jumped = engine.on_inbound(FLOW, AT_ACTION, Inbound(text="quero um atendente"), {})

    assert ignored.reason == "ignored" and ignored.position == AT_ACTION
    assert jumped.jumped_to == 30 and [o.text for o in jumped.outgoing] == ["Chamando."]


def test_a_result_for_a_position_no_longer_in_the_flow_ends_it_quietly():
    decision = engine.after_action(FLOW, Position(99, 98, engine.WAIT_ACTION), {}, succeeded=True, result={})
    assert decision.reason == "stale_position" and not decision.outgoing
