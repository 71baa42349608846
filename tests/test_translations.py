"""Operators are Brazilian: pt-BR is the default language, English is available.

The rest of the suite runs with LANGUAGE_CODE=en (see the Makefile) and asserts the
English source strings; this module checks the translation itself.
"""

from django.utils import translation


def test_api_errors_speak_portuguese_by_default(anon_client, db, settings):
    settings.LANGUAGE_CODE = "pt-br"
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert anon_client.get("/api/v1/me").json()["detail"] == "Token inválido ou revogado."


def test_english_is_available_on_request(anon_client, db, settings):
    settings.LANGUAGE_CODE = "pt-br"
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = anon_client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["detail"] == "Invalid or revoked token."


def test_the_admin_labels_are_translated(admin_client, settings):
    settings.LANGUAGE_CODE = "pt-br"
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Contatos" in page
    assert "Campanhas" in page
    assert "Instâncias de WhatsApp" in page


def test_every_message_is_translated():
    from pathlib import Path

    po = (Path(__file__).resolve().parent.parent / "locale/pt_BR/LC_MESSAGES/django.po").read_text()
    entries = po.split("\n\n")[1:]
    untranslated = [e for e in entries if e.rstrip().endswith('msgstr ""') and "#~" not in e]
    assert not untranslated, f"{len(untranslated)} untranslated, first: {untranslated[0]!r}"
    with translation.override("pt-br"):
        assert translation.gettext("Campaigns") == "Campanhas"
