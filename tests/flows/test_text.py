"""The engine's text rules: keywords, variables, file types."""

import pytest

from flows.text import accepts_file, matches_keyword, render


@pytest.mark.parametrize(
    ("text", "keyword", "expected"),
    [
        ("Qual o PRECO?", "preço", True),
        ("qual o preço", "PRECO", True),
        ("saíram todos", "sair", False),
        ("quero sair", "sair", True),
        ("quero falar com um atendente agora", "falar com um atendente", True),
        ("atendentes", "atendente", False),
        ("", "preço", False),
        ("preço", "   ", False),
    ],
)
def test_keywords_match_whole_words_ignoring_case_and_accents(text, keyword, expected):
    assert matches_keyword(text, keyword) is expected


def test_render_fills_variables_and_leaves_missing_ones_empty(caplog):
    assert render("Olá {{ name }}, {{discount}} de {{ contact.city }}", {"name": "Ana", "contact": {"city": "SP"}}) == (
        "Olá Ana,  de SP"
    )
    assert "discount" in caplog.text


@pytest.mark.parametrize(
    ("expected", "extension", "mimetype", "accepted"),
    [
        (["pdf"], "pdf", "application/pdf", True),
        ([".PDF"], "pdf", "", True),
        (["image/*"], "png", "image/png", True),
        (["application/pdf"], "png", "image/png", False),
        (["pdf", "jpg"], "png", "image/png", False),
        ([], "exe", "", True),
    ],
)
def test_file_types(expected, extension, mimetype, accepted):
    assert accepts_file(expected, extension=extension, mimetype=mimetype) is accepted
