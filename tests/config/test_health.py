def test_it_reports_database_broker_and_version(client, db, settings):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("status", "version", "database", "broker")} == {
        "status": "ok",
        "version": settings.VERSION,
        "database": "ok",
        "broker": "ok",
    }


def test_it_names_the_broker_when_it_is_down(client, db):
    from config.celery import app

    original = app.conf.broker_url
    # Nothing listens on port 1: the broker is unreachable.
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/health")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert body["database"] == "ok"
    assert body["errors"]["broker"]


def test_it_tells_the_bot_controls_and_the_time(client, db, settings):
    settings.FLOWS_BOT_DEFAULTS = {**settings.FLOWS_BOT_DEFAULTS, "BOT_ENABLED": True, "TEST_MODE": True}

    body = client.get("/health").json()

    assert (body["bot_enabled"], body["bot_status"], body["test_mode"]) == (True, "active", True)
    from datetime import datetime

    assert datetime.fromisoformat(body["timestamp"]).tzinfo is not None


def test_with_a_token_it_tells_that_organizations_bot(alice, org_a, db):
    from accounts.services import create_api_token
    from flows.models import SystemSetting

    SystemSetting.objects.create(organization=org_a, key="BOT_ENABLED", value="false", value_type="boolean")
    from django.test import Client

    _token, key = create_api_token(user=alice, name="health")
    body = Client().get("/health", HTTP_AUTHORIZATION=f"Bearer {key}").json()

    assert body["bot_enabled"] is False and body["organization"] == org_a.id


def test_it_names_redis_when_it_is_down(client, db):
    from django.test import override_settings

    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):  # nothing listens there; the broker is unchanged
        response = client.get("/health")

    body = response.json()
    assert response.status_code == 503 and body["down"] == ["redis"] and body["redis"] == "down"
    assert body["database"] == "ok" and body["broker"] == "ok"
