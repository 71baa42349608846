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

    po = (Path(__file__).resolve().parents[2] / "locale/pt_BR/LC_MESSAGES/django.po").read_text()
    entries = po.split("\n\n")[1:]
    untranslated = [e for e in entries if e.rstrip().endswith('msgstr ""') and "#~" not in e]
    assert not untranslated, f"{len(untranslated)} untranslated, first: {untranslated[0]!r}"
    with translation.override("pt-br"):
        assert translation.gettext("Campaigns") == "Campanhas"


# Words that read the same in Portuguese.
SAME_IN_PORTUGUESE = {"Link", "%(class_name)s %(instance)s"}


def test_the_themes_own_words_are_translated():
    """The admin theme ships no pt-BR catalog: every word of its templates and code is in ours."""
    import re
    from pathlib import Path

    import unfold

    root = Path(unfold.__file__).parent
    in_templates = re.compile(r"""{%\s*(?:trans|translate)\s+(["'])(.+?)\1""")
    in_code = re.compile(r"""\b_\(\s*(["'])(.+?)\1\s*\)""")
    words = {m[2] for path in root.rglob("*.html") for m in in_templates.finditer(path.read_text())}
    words |= {m[2] for path in root.rglob("*.py") for m in in_code.finditer(path.read_text())}
    assert len(words) > 100
    with translation.override("pt-br"):
        untranslated = sorted(w for w in words - SAME_IN_PORTUGUESE if translation.gettext(w) == w)
    assert not untranslated, untranslated


def test_the_themes_words_show_in_portuguese_on_a_list(admin_client, settings):
    settings.LANGUAGE_CODE = "pt-br"
    page = admin_client.get("/admin/contacts/contact/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "Limpar filtros" in page or "Aplicar filtros" in page
    assert "Apply Filters" not in page
    assert "Search apps and models" not in page


OUR_APPS = ("accounts", "contacts", "instances", "flows", "campaigns", "webhooks", "integrations")


def test_every_field_of_ours_has_a_translated_name():
    """A field without a verbose name shows its English attribute name ("Heartbeat at") in pt-BR."""
    from django.apps import apps
    from django.utils.functional import Promise

    unnamed = []
    for app in OUR_APPS:
        for model in apps.get_app_config(app).get_models():
            if not isinstance(model._meta.verbose_name, Promise):
                unnamed.append(model.__name__)
            for field in model._meta.get_fields():
                if field.auto_created or field.name == "id" or not hasattr(field, "_verbose_name"):
                    continue
                if not isinstance(field._verbose_name, Promise):
                    unnamed.append(f"{model.__name__}.{field.name}")
    assert not unnamed, unnamed
