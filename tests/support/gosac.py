import copy
import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gosac"


def gosac_payload(name: str, **data) -> dict:
    payload = copy.deepcopy(json.loads((FIXTURES / f"messages_created_{name}.json").read_text()))
    payload["data"].update(data)
    return payload


class GosacSender:
    """Posts GOSAC webhooks for one instance, each with a fresh message id."""

    def __init__(self, client, instance):
        self.client = client
        self.url = f"/api/webhooks/gosac/{instance.webhook_secret}/"
        self.next_id = 1

    def post(self, name: str = "text", **data):
        data.setdefault("id", f"msg-{self.next_id}")
        self.next_id += 1
        return self.client.post(self.url, gosac_payload(name, **data), format="json")

    def text(self, body: str, **data):
        return self.post("text", body=body, **data)
