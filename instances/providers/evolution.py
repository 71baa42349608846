"""Evolution API client (https://doc.evolution-api.com), v2 by default, v1 per instance.

Answers this client relies on (see tests/fixtures/evolution/answers/):
- sendText / sendMedia: 201 with the message, its WhatsApp id in `key.id`.
- A number that is not on WhatsApp: 400 `{"status": 400, "error": "Bad Request",
  "response": {"message": [{"exists": false, "jid": ..., "number": ...}]}}`.
- An unknown instance: 404 `{"response": {"message": ["The \"x\" instance does not exist"]}}`.
- A wrong apikey: 401.
"""

import mimetypes
import posixpath
import re
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from django.utils import timezone

from instances import http
from instances.models import WhatsAppInstance
from instances.providers.answers import accepted_json, json_or_none, parse_timestamp, raise_for_status_class
from instances.providers.base import Provider, ProviderOutcomeUnknown, ProviderRejected, SendResult, about_to_send
from instances.providers.choices import evolution_poll_body, numbered_text

NAME = "Evolution"
DEFAULT_WEBHOOK_EVENTS = [
    "MESSAGES_UPSERT",
    "MESSAGES_UPDATE",
    "MESSAGES_DELETE",
    "CONNECTION_UPDATE",
    "QRCODE_UPDATED",
]


class Evolution(Provider):
    def send_text(self, instance, phone: str, text: str) -> SendResult:
        number = digits(phone)
        if instance.api_version == "v1":
            body = {"number": number, "options": {"delay": 0}, "textMessage": {"text": text}}
        else:
            body = {"number": number, "text": text, "linkPreview": True}
        return self._send(instance, "sendText", body)

    def send_media(
        self, instance, phone: str, url: str, caption: str = "", filename: str = "", mimetype: str = ""
    ) -> SendResult:
        filename = filename or posixpath.basename(urlsplit(url).path) or "file"
        mimetype = mimetype or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        media = {"mediatype": media_type(mimetype), "caption": caption, "media": url, "fileName": filename}
        if instance.api_version == "v1":
            body = {"number": digits(phone), "options": {"delay": 0}, "mediaMessage": media}
        else:
            body = {"number": digits(phone), "mimetype": mimetype, **media}
        return self._send(instance, "sendMedia", body)

    def send_choice(self, instance, phone: str, choice) -> SendResult:
        """A poll where the instance says it supports them (`supports_polls`), else numbered text."""
        if not instance.supports_polls:
            return self.send_text(instance, phone, numbered_text(choice))
        body = evolution_poll_body(choice, number=digits(phone), api_version=instance.api_version)
        return self._send(instance, "sendPoll", body)

    def connection_state(self, instance) -> str:
        response = http.request("GET", _url(instance, "instance/connectionState"), headers=_headers(instance))
        _raise_for_answer(instance, response)
        payload = accepted_json(response, NAME)
        state = (payload.get("instance") or {}).get("state") or payload.get("state")
        if state in WhatsAppInstance.ConnectionState.values:
            return state
        # Baileys reports a few transient states ("refused", ...) that mean "not connected".
        return WhatsAppInstance.ConnectionState.CLOSE

    def connect(self, instance) -> dict:
        """`GET instance/connect`: a QR code to scan (base64 PNG) or, once logged in, the state."""
        response = http.request("GET", _url(instance, "instance/connect"), headers=_headers(instance))
        _raise_for_answer(instance, response)
        payload = accepted_json(response, NAME)
        qr = payload.get("base64") or (payload.get("qrcode") or {}).get("base64") or ""
        if qr and not str(qr).startswith("data:"):
            qr = f"data:image/png;base64,{qr}"
        state = (payload.get("instance") or {}).get("state") or ""
        return {"qr": str(qr), "pairing_code": str(payload.get("pairingCode") or ""), "state": state}

    def find_sent(self, instance, phone: str, since: datetime) -> list[SendResult] | None:
        """v2's `POST chat/findMessages/{instance}` (its stored messages, newest first); v1 cannot tell.

        The filter and the answer `{"messages": {"total", "pages", "currentPage", "records": [...]}}`
        are Evolution's `fetchMessages` (src/api/services/channel.service.ts, 2.3.6).
        """
        if instance.api_version == "v1":
            return None
        until = timezone.now() + timedelta(minutes=1)
        body = {
            "where": {
                "key": {"remoteJid": f"{digits(phone)}@s.whatsapp.net", "fromMe": True},
                "messageTimestamp": {"gte": since.isoformat(), "lte": until.isoformat()},
            },
            "offset": 50,
            "page": 1,
        }
        response = http.request("POST", _url(instance, "chat/findMessages"), headers=_headers(instance), json=body)
        _raise_for_answer(instance, response)
        records = ((accepted_json(response, NAME).get("messages") or {}).get("records")) or []
        found = []
        for record in records if isinstance(records, list) else []:
            key = record.get("key") if isinstance(record, dict) else None
            if not isinstance(key, dict) or not key.get("id") or key.get("fromMe") is False:
                continue
            accepted_at = parse_timestamp(record.get("messageTimestamp"))
            if accepted_at >= since.replace(microsecond=0):  # whole seconds
                found.append(SendResult(provider_message_id=str(key["id"]), accepted_at=accepted_at, raw=record))
        return found

    def configure_webhook(self, instance, url: str, events: list[str] | None = None) -> dict:
        events = list(events or DEFAULT_WEBHOOK_EVENTS)
        flat = {"url": url, "enabled": True, "webhook_by_events": False, "webhook_base64": False, "events": events}
        if instance.api_version == "v1":
            body = flat
        else:
            body = {
                "webhook": {
                    "enabled": True,
                    "url": url,
                    "headers": {},
                    "byEvents": False,
                    "base64": False,
                    "events": events,
                }
            }
        response = http.request("POST", _url(instance, "webhook/set"), headers=_headers(instance), json=body)
        if response.status_code == 400 and body is not flat:
            # Evolution 2.0.x still takes the flat body and answers the nested one with a 400.
            response = http.request("POST", _url(instance, "webhook/set"), headers=_headers(instance), json=flat)
        _raise_for_answer(instance, response)
        return json_or_none(response) or {}

    def _send(self, instance, endpoint: str, body: dict) -> SendResult:
        about_to_send()
        response = http.request("POST", _url(instance, f"message/{endpoint}"), headers=_headers(instance), json=body)
        _raise_for_answer(instance, response)
        payload = accepted_json(response, NAME)
        message_id = (payload.get("key") or {}).get("id")
        if not message_id:
            raise ProviderOutcomeUnknown(
                f"{NAME} accepted the message but its answer has no key.id",
                status_code=response.status_code,
                body=response.text,
                code="unreadable_answer",
            )
        return SendResult(
            provider_message_id=str(message_id),
            accepted_at=parse_timestamp(payload.get("messageTimestamp")),
            raw=payload,
        )


def digits(phone: str) -> str:
    """Evolution wants the number as digits with the country code: +55 11 99999-9999 -> 5511999999999."""
    return re.sub(r"\D", "", phone)


def media_type(mimetype: str) -> str:
    kind = mimetype.split("/", 1)[0]
    return kind if kind in ("image", "video", "audio") else "document"


def _url(instance, path: str) -> str:
    return f"{instance.base_url.rstrip('/')}/{path}/{quote(instance.instance_name or '', safe='')}"


def _headers(instance) -> dict:
    return {"apikey": instance.api_key}


def _raise_for_answer(instance, response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    payload = json_or_none(response)
    messages = _messages(payload)
    detail = "; ".join(str(m) for m in messages) or response.text[:200]
    if status == 400 and any(isinstance(m, dict) and m.get("exists") is False for m in messages):
        raise ProviderRejected(
            "The number is not on WhatsApp", status_code=status, body=response.text, code="not_on_whatsapp"
        )
    if status == 404:
        raise ProviderRejected(
            f'{NAME} does not know the instance "{instance.instance_name}": {detail}',
            status_code=status,
            body=response.text,
            code="instance_not_found",
            instance_level=True,
        )
    raise_for_status_class(response, NAME, detail)


def _messages(payload) -> list:
    if not isinstance(payload, dict):
        return []
    message = (payload.get("response") or {}).get("message") if isinstance(payload.get("response"), dict) else None
    if message is None:
        message = payload.get("message")
    if message is None:
        return []
    flat = []
    for item in message if isinstance(message, list) else [message]:
        flat.extend(item if isinstance(item, list) else [item])
    return flat
