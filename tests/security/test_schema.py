"""The OpenAPI contract: it generates with no warning and validates, names every error body,
includes the webhooks, and is served as YAML and JSON with Swagger UI and ReDoc from this server."""

import io

import pytest
import yaml
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    out = io.StringIO()
    # --fail-on-warn turns any warning or error of drf-spectacular's generator into a failure.
    call_command("spectacular", "--fail-on-warn", "--validate", stdout=out)
    return yaml.safe_load(out.getvalue())


def test_the_schema_generates_with_zero_warnings_and_validates(schema):
    assert schema["openapi"].startswith("3.")
    assert len(schema["paths"]) > 50


# Actions that take no body: the verb is the whole request.
BODYLESS = ("/opt-in/", "/enable/", "/disable/", "/schedule/trigger/", "/replay/")


def test_every_operation_documents_its_body_and_error_answers(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            assert "429" in responses and "Retry-After" in responses["429"].get("headers", {}), (method, path)
            assert "400" in responses, (method, path)
            if path.startswith("/api/v1/"):
                assert {"401", "403"} <= set(responses), (method, path)
                assert responses["401"]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }
            if "{" in path:
                assert "404" in responses, (method, path)
            if method in ("post", "put", "patch") and not path.endswith(("/pause/", "/resume/", "/cancel/")):
                assert "requestBody" in operation or path.endswith(BODYLESS), (
                    method,
                    path,
                )
    components = schema["components"]["schemas"]
    assert {"Error", "ValidationError", "ProviderError", "WebhookError"} <= set(components)
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }


def test_the_webhooks_are_in_the_contract_without_bearer_auth(schema):
    for path in (
        "/api/webhooks/evolution/{secret}/",
        "/api/webhooks/evolution/{secret}/{event}",
        "/api/webhooks/evolution/",
        "/api/webhooks/gosac/{secret}/",
    ):
        operation = schema["paths"][path]["post"]
        assert operation["security"] == []
        assert {"200", "400", "401", "404", "413", "429"} <= set(operation["responses"])


def test_the_schema_and_the_docs_are_served_from_this_server():
    client = Client()
    as_yaml = client.get("/api/schema/")
    assert as_yaml.status_code == 200 and "openapi: 3" in as_yaml.content.decode()
    as_json = client.get("/api/schema.json")
    assert as_json.status_code == 200 and as_json.json()["info"]["title"] == "WhatsFlow API"
    assert client.get("/api/schema/?format=json").json()["openapi"].startswith("3.")
    for page, asset in (("/api/docs/", "swagger-ui-dist/swagger-ui-bundle.js"), ("/api/redoc/", "redoc.standalone.js")):
        html = client.get(page).content.decode()
        assert asset in html
        assert "https://" not in html and "http://" not in html  # nothing from a CDN
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_a_validation_error_without_a_field_is_still_an_object(alice_client):
    response = alice_client.get("/api/v1/contacts/", {"search": "a\x00b"})
    assert response.status_code == 400
    assert isinstance(response.json(), dict)
