import os

import pytest

from instances import http

pytestmark = pytest.mark.django_db


def test_one_pooled_session_per_process_without_retries(monkeypatch, settings):
    settings.PROVIDER_POOL_MAXSIZE = 7
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as in a freshly forked worker
    session = http.get_session()

    assert http.get_session() is session
    adapter = session.get_adapter("https://evolution.example.com")
    assert adapter._pool_maxsize == 7
    assert adapter.max_retries.total == 0
    monkeypatch.setattr(os, "getpid", lambda: -2)
    assert http.get_session() is not session


def test_the_environment_requests_would_read_is_read_once_per_origin(monkeypatch):
    monkeypatch.setattr(http, "_environment", {})
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "evolution.internal")

    assert http._environment_for("https://api.gosac.example/")["proxies"]["https"] == "http://proxy.internal:3128"
    assert "https" not in http._environment_for("https://evolution.internal/")["proxies"]
    monkeypatch.delenv("HTTPS_PROXY")
    assert http._environment_for("https://api.gosac.example/")["proxies"]["https"] == "http://proxy.internal:3128"
    assert http.get_session().trust_env is False  # requests itself no longer reads it on each call
