"""The QR codes a number logs in with, kept a minute for the admin's connect page.

Two sources: the code `instance/connect` answers (asked by the page, at most every
`refresh_seconds`), and the codes Evolution pushes as `qrcode.updated` webhook events
(kept by the webhook intake). The page shows the newer of the two.

Both live in the cache (Redis under the deployment's prefix when `REDIS_URL` is set, so
every web process sees a code whichever one the webhook reached): a code expires within
a minute, so it is worth nothing to a worker, a replay or a database row. Without Redis
the cache is each process's memory, and a pushed code is seen only by polls that reach
the process the webhook reached; the page still asks `instance/connect`.
"""

import logging
import time
from dataclasses import asdict, dataclass

import redis
from django.core.cache import cache

logger = logging.getLogger(__name__)

# WhatsApp's first code lasts 60 s, the next ones 20 s each.
PUSHED_SECONDS = 60


@dataclass(frozen=True)
class QrCode:
    qr: str  # a data URL of the image
    pairing_code: str
    at: int  # when we got it, in milliseconds since the epoch (our clock)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _pushed_key(instance_id: int) -> str:
    return f"instances:qr:pushed:{instance_id}"


def _polled_key(instance_id: int) -> str:
    return f"instances:qr:polled:{instance_id}"


def _read(name: str) -> QrCode | None:
    value = cache.get(name)
    return QrCode(**value) if isinstance(value, dict) else None


def keep_pushed(*, instance_id: int, qr: str, pairing_code: str = "") -> QrCode | None:
    """Keep a pushed code for `PUSHED_SECONDS`; None when the cache cannot be reached."""
    code = QrCode(qr=qr, pairing_code=pairing_code, at=now_ms())
    try:
        cache.set(_pushed_key(instance_id), asdict(code), timeout=PUSHED_SECONDS)
    except redis.RedisError as exc:
        logger.warning("instance=%s pushed QR code not kept: %s", instance_id, exc)
        return None
    return code


def keep_polled(*, instance_id: int, answer: dict, seconds: int) -> QrCode | None:
    """Keep what `Provider.connect` answered for `seconds`; None when it holds no code."""
    if not answer.get("qr"):
        return None
    code = QrCode(qr=answer["qr"], pairing_code=answer.get("pairing_code") or "", at=now_ms())
    cache.set(_polled_key(instance_id), asdict(code), timeout=seconds)
    return code


def newest(*, instance_id: int, refresh, refresh_seconds: int) -> QrCode | None:
    """The newer of the pushed and the polled code; `refresh()` (a `Provider.connect` answer)
    is asked only when neither is younger than `refresh_seconds`."""
    pushed, polled = _read(_pushed_key(instance_id)), _read(_polled_key(instance_id))
    fresh_after = now_ms() - refresh_seconds * 1000
    if polled is None and (pushed is None or pushed.at < fresh_after):
        polled = keep_polled(instance_id=instance_id, answer=refresh(), seconds=refresh_seconds)
    codes = [code for code in (pushed, polled) if code is not None]
    return max(codes, key=lambda code: code.at) if codes else None


def forget(*, instance_id: int) -> None:
    """The number is logged in: no code of it is worth showing any more."""
    cache.delete_many([_pushed_key(instance_id), _polled_key(instance_id)])
