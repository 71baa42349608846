"""The generic HTTP action."""

import json

import pytest

from integrations.services import actions
from integrations.services.connections import create_integration

pytestmark = pytest.mark.django_db


def test_the_http_action_sends_the_bearer_token_and_returns_the_json(
    org_a, fake_provider, django_capture_on_commit_callbacks
):
    fake_provider.respond("POST", r"^/crm/leads$", status=201, json={"id": "lead-9", "ok": True})
    create_integration(
        organization=org_a,
        kind="http",
        name="crm",
        settings={"base_url": fake_provider.url},
        secrets={"bearer_token": "crm-token-123456"},
    )
    with django_capture_on_commit_callbacks(execute=False):
        run = actions.request_run(
            organization_id=org_a.id,
            action="http_request",
            integration_name="crm",
            params={"method": "POST", "url": "/crm/leads", "body": {"phone": "+5511"}},
            key="k-http",
            reference="test:1",
        )

    assert actions.run_action(run_id=run.id) == "succeeded"
    run.refresh_from_db()
    assert run.result == {"status": 201, "json": {"id": "lead-9", "ok": True}}
    [request] = fake_provider.requests_to(r"^/crm/leads$")
    assert request.header("authorization") == "Bearer crm-token-123456" and request.json == {"phone": "+5511"}
    assert "crm-token" not in json.dumps(run.params)
