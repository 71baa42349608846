"""The fake provider's status reporter: what bench/funnel.py trusts to post Evolution's statuses back."""

import json
import time

import requests

from tests.support.fakes.provider_server import FakeProviderServer
from tests.support.fakes.status_reporter import StatusReporter
from webhooks.evolution.parser import parse


def test_each_send_gets_its_three_statuses_posted_back_in_evolution_v2_format_and_duplicates_byte_for_byte():
    with FakeProviderServer() as receiver:
        receiver.respond("POST", r"^/hooks/", json={"ok": True})
        reporter = StatusReporter(f"{receiver.url}/hooks/abc/", duplicates=1.0, delay_scale=0.01)
        with FakeProviderServer(reporter=reporter) as provider:
            body = {"number": "5511987654321", "text": "Oi"}
            sent = requests.post(f"{provider.url}/message/sendText/loja", json=body)
            deadline = time.monotonic() + 10
            while len(receiver.requests_to("^/hooks/")) < 6 and time.monotonic() < deadline:
                time.sleep(0.05)

    posts = receiver.requests_to("^/hooks/")
    assert len(posts) == 6 and reporter.errors == 0
    bodies = [p.json for p in posts]
    first_posts = {}
    for post in posts:
        first_posts.setdefault(post.json["data"]["status"], post.body)
        assert post.body == first_posts[post.json["data"]["status"]]  # a duplicate is the same bytes
    assert set(first_posts) == {"SERVER_ACK", "DELIVERY_ACK", "READ"}
    message_id = sent.json()["key"]["id"]
    assert {b["data"]["keyId"] for b in bodies} == {message_id} and {b["instance"] for b in bodies} == {"loja"}
    statuses = sorted(e.status for body in first_posts.values() for e in parse(json.loads(body)).events)
    assert statuses == ["delivered", "read", "sent"]  # what the product's parser reads from them
