def test_it_reports_database_broker_and_version(client, db, settings):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": settings.VERSION, "database": "ok", "broker": "ok"}


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
