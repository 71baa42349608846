"""Signatures of outbound webhooks, Stripe-style: `WhatsFlow-Signature: t=<unix>,v1=<hex>`.

`v1` is HMAC-SHA256 with the subscription's secret over `"<t>.<raw body>"`. Receivers
recompute it, compare in constant time and refuse a `t` older than a few minutes
(replayed requests). `verify` is the reference implementation the docs quote.
"""

import hashlib
import hmac
import time

HEADER = "WhatsFlow-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: str, body: bytes, header: str, *, tolerance: int = TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    given = [value for key, value in (item.split("=", 1) for item in header.split(",")) if key == "v1"]
    return any(hmac.compare_digest(expected, value) for value in given)
