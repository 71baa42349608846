"""CORS for the API: only the origins in CORS_ALLOWED_ORIGINS, none by default."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PREFLIGHT = {
    "Origin": "https://app.example.com",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type,x-request-id",
}


def test_nothing_is_allowed_by_default():
    response = Client().options("/api/v1/contacts/", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in response


def test_an_allowed_origin_gets_a_preflight_answer_for_the_api(settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = Client().options("/api/v1/contacts/", headers=PREFLIGHT)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "authorization" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]
    other = Client().options("/api/v1/contacts/", headers={**PREFLIGHT, "Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other
    admin = Client().options("/admin/login/", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in admin  # the API only
