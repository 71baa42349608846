"""The fake provider itself: other tests trust its recording and scripting."""

import requests


def test_it_answers_evolution_send_text_with_a_fresh_key_id(fake_provider):
    session = requests.Session()
    first = session.post(f"{fake_provider.url}/message/sendText/loja", json={"number": "5511999999999", "text": "Oi"})
    second = session.post(f"{fake_provider.url}/message/sendText/loja", json={"number": "5511999999999", "text": "Oi"})
    assert first.status_code == 201
    assert first.json()["key"]["remoteJid"] == "5511999999999@s.whatsapp.net"
    assert first.json()["key"]["id"] != second.json()["key"]["id"]
    assert [r.json["text"] for r in fake_provider.requests_to("/message/sendText/loja")] == ["Oi", "Oi"]


def test_it_plays_scripted_answers_the_given_number_of_times(fake_provider):
    fake_provider.respond("POST", r"^/send-message$", status=500, json={"error": "boom"}, times=1)
    first = requests.post(f"{fake_provider.url}/send-message", json={"contact_id": 1, "message": "x"})
    second = requests.post(f"{fake_provider.url}/send-message", json={"contact_id": 1, "message": "x"})
    assert (first.status_code, second.status_code) == (500, 200)
    assert first.json() == {"error": "boom"}


def test_it_records_headers(fake_provider):
    requests.get(f"{fake_provider.url}/instance/connectionState/loja", headers={"apikey": "secret-key"})
    assert fake_provider.requests[0].header("apikey") == "secret-key"
