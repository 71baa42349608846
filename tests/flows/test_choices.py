"""Which option a reply picks: taps, votes, numbers, labels; without a database."""

import pytest

from flows.choices import OptionSpec, pick_option

OPTIONS = (
    OptionSpec("a", "Opção A"),
    OptionSpec("b", "Opção B", target_subflow_id=2),
    OptionSpec("suporte", "Falar com o suporte"),
    OptionSpec("d", "Preços e prazos"),
    OptionSpec("e", "Sair"),
)


@pytest.mark.parametrize(
    "reply",
    [
        {"text": "2"},
        {"text": " 2. "},
        {"text": "2)"},
        {"text": "opção 2"},
        {"text": "Opcao 2"},
        {"text": "#2"},
        {"text": "Opção B"},
        {"text": "opcao b"},
        {"text": "  OPÇÃO   B!"},
        {"text": "b"},
        {"tap_id": "b"},
        {"poll_votes": ("Opção B",)},
        {"poll_votes": ("opção b",)},
    ],
)
def test_every_way_of_answering_picks_option_b(reply):
    assert pick_option(OPTIONS, **reply).key == "b"


def test_a_tap_id_wins_over_the_text_sent_with_it():
    assert pick_option(OPTIONS, text="Sair", tap_id="suporte").key == "suporte"


def test_a_title_only_reply_matches_the_label_with_accents_ignored():
    assert pick_option(OPTIONS, text="Precos e prazos").key == "d"
    assert pick_option(OPTIONS, text="falar com o SUPORTE").key == "suporte"


@pytest.mark.parametrize(
    "reply",
    [
        {"text": ""},
        {"text": "0"},
        {"text": "6"},
        {"text": "quero a opção B por favor"},
        {"text": "preços"},
        {"tap_id": "z"},
        {"poll_votes": ("Outra",)},
    ],
)
def test_other_replies_pick_nothing(reply):
    assert pick_option(OPTIONS, **reply) is None


def test_a_burst_is_tried_by_its_last_line():
    assert pick_option(OPTIONS, text="oi\nboa tarde\n2").key == "b"
    assert pick_option(OPTIONS, text="2\nobrigado") is None
