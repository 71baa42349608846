"""Every API list route answers with and without the trailing slash (no redirect)."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse


def _list_routes(patterns=None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _list_routes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            actions = getattr(pattern.callback, "actions", None) or {}
            if actions.get("get") == "list" and not pattern.pattern.regex.groupindex:
                yield pattern.name


ROUTES = sorted(set(_list_routes()))


@pytest.mark.parametrize("url_name", ROUTES)
def test_it_answers_with_and_without_the_slash(url_name, alice_client):
    url = reverse(url_name).rstrip("/")
    assert url.startswith("/api/v1/")
    assert alice_client.get(url).status_code == 200
    assert alice_client.get(url + "/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v1/me", "/api/v1/settings", "/api/v1/bot/status", "/api/v1/analytics/conversations"]
)
def test_plain_views_answer_with_and_without_the_slash(path, alice_client):
    assert alice_client.get(path).status_code == 200
    assert alice_client.get(path + "/").status_code == 200
