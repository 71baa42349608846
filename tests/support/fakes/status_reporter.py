"""What the fake provider reports after a send: Evolution v2 `messages.update` webhooks, posted back.

For each message sent it schedules SERVER_ACK, DELIVERY_ACK and READ after growing random
delays, and posts a share of them a second time with the same bytes (a provider retrying
a webhook it thinks was lost), each with `date_time` set to its first post, so a receiver's
lag is `applied − date_time`. Posted by a few threads, each with its own keep-alive connection.
"""

import heapq
import http.client
import json
import random
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

# (status, delay range in seconds after the send): ack from the server, the phone, the person.
STATUSES = [("SERVER_ACK", (0.05, 0.5)), ("DELIVERY_ACK", (0.5, 3.0)), ("READ", (2.0, 8.0))]


def status_body(*, instance_name: str, message_id: str, number: str, status: str, at: float) -> bytes:
    jid = f"{number}@s.whatsapp.net"
    stamp = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps(
        {
            "event": "messages.update",
            "instance": instance_name,
            "data": {
                "messageId": f"cm{random.getrandbits(96):024x}",
                "keyId": message_id,
                "remoteJid": jid,
                "fromMe": True,
                "participant": jid,
                "status": status,
                "instanceId": "fake-provider",
            },
            "destination": "http://127.0.0.1/api/webhooks/evolution/",
            "date_time": stamp,
            "sender": "5511912345678@s.whatsapp.net",
            "server_url": "http://127.0.0.1:8080",
            "apikey": None,
        },
        separators=(",", ":"),
    ).encode()


class StatusReporter:
    def __init__(self, url: str, *, duplicates: float = 0.2, threads: int = 4, delay_scale: float = 1.0):
        self.url = urlsplit(url)
        self.duplicates = duplicates
        self.delay_scale = delay_scale
        self._due: list[tuple[float, int, str, str, str, str, bytes | None]] = []
        self._seq = 0
        self._cv = threading.Condition()
        self.posted = self.errors = 0
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def sent(self, *, instance_name: str, message_id: str, number: str) -> None:
        now = time.time()
        with self._cv:
            for status, (low, high) in STATUSES:
                due = now + random.uniform(low, high) * self.delay_scale
                self._push(due, instance_name, message_id, number, status)
            self._cv.notify(len(STATUSES))

    def _push(self, due, instance_name, message_id, number, status, body=None):
        self._seq += 1
        heapq.heappush(self._due, (due, self._seq, instance_name, message_id, number, status, body))

    def _run(self) -> None:
        connection = None
        while True:
            with self._cv:
                while not self._due or self._due[0][0] > time.time():
                    self._cv.wait(timeout=(self._due[0][0] - time.time()) if self._due else None)
                due, _seq, instance_name, message_id, number, status, body = heapq.heappop(self._due)
                first = body is None
                if first:
                    body = status_body(
                        instance_name=instance_name, message_id=message_id, number=number, status=status, at=time.time()
                    )
                    if random.random() < self.duplicates:
                        again = time.time() + random.uniform(0.1, 1.0)
                        self._push(again, instance_name, message_id, number, status, body)
            connection = self._post(connection, body)

    def _post(self, connection, body: bytes):
        for _attempt in range(2):
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=30)
                connection.request("POST", self.url.path, body=body, headers={"Content-Type": "application/json"})
                answer = connection.getresponse()
                answer.read()
                with self._cv:
                    self.posted += 1
                    self.errors += answer.status != 200
                return connection
            except OSError:
                connection = None
        with self._cv:
            self.errors += 1
        return None

    def pending(self) -> int:
        with self._cv:
            return len(self._due)
