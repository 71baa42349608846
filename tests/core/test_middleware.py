"""The 503 of a view that met a database outage (the request's own urlconf: a view that raises it)."""

import pytest
from django.db import OperationalError
from django.urls import path


def lost_connection(request):
    raise OperationalError("server closed the connection unexpectedly")


def broken(request):
    raise ValueError("a bug")


urlpatterns = [path("lost/", lost_connection), path("broken/", broken)]


@pytest.mark.urls(__name__)
def test_a_lost_database_connection_is_a_503_with_retry_after(client):
    response = client.get("/lost/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == {"status": "error", "error": "The database is unavailable; try again shortly."}


@pytest.mark.urls(__name__)
def test_any_other_error_is_left_alone(client):
    client.raise_request_exception = False
    assert client.get("/broken/").status_code == 500
