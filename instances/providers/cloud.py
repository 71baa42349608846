"""Meta's WhatsApp Cloud API client: `POST {base}/{version}/{phone-number-id}/messages`.

What Meta documents and this client relies on (docs/cloud-api.md has the links):
- Every send is a JSON body with `"messaging_product": "whatsapp"`, `to` (the number's
  digits), `type` and the object of that type; the token goes as `Authorization: Bearer`.
- Accepted: 200 `{"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}],
  "messages": [{"id": "wamid...", "message_status": "accepted"}]}`. Accepted is not
  delivered: the `messages` webhook reports sent, delivered, read or failed later.
- Refused: 4xx/5xx `{"error": {"message": "(#131026) Message undeliverable", "type",
  "code": 131026, "error_data": {"messaging_product", "details"}, "fbtrace_id"}}`; what
  each code means for us is `instances.cloud_errors`.
- Mark as read: the same endpoint with `{"status": "read", "message_id": ...}`.
- Health: `GET {base}/{version}/{phone-number-id}` answers the number (quality rating,
  status) when the token is good; there is no QR login.
"""

import mimetypes
import re

from django.conf import settings
from django.utils import timezone

from instances import http
from instances.cloud_errors import INSTANCE, action_for
from instances.models import WhatsAppInstance
from instances.providers.answers import accepted_json, json_or_none, raise_for_status_class
from instances.providers.base import (
    Provider,
    ProviderError,
    ProviderOutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    SendResult,
    about_to_send,
)
from instances.providers.choices import Choice, cloud_interactive

NAME = "WhatsApp Cloud API"
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
WINDOW_CLOSED_CODE = 131047
TEMPLATE_FIELDS = "id,name,language,status,category,quality_score,components,rejected_reason"
HEALTH_FIELDS = "display_phone_number,verified_name,quality_rating,status,messaging_limit_tier"


class MetaRefusal(ProviderError):
    """What Meta said about a refused request: `meta` (code, title, details, as sent) and its `action`."""

    meta: dict
    action: object


class CloudRejected(MetaRefusal, ProviderRejected):
    """Meta refused the message and repeating it would not help."""


class CloudUnavailable(MetaRefusal, ProviderUnavailable):
    """Meta refused the message for now (throughput, pair rate, a limit, an internal error)."""


class Cloud(Provider):
    def send_text(self, instance, phone: str, text: str) -> SendResult:
        return self._send(instance, phone, "text", {"body": text, "preview_url": "http" in text})

    def send_media(
        self, instance, phone: str, url: str, caption: str = "", filename: str = "", mimetype: str = ""
    ) -> SendResult:
        """Media by link: Meta downloads `url` (it must be public)."""
        kind = media_type(mimetype or mimetypes.guess_type(filename or url)[0] or "")
        return self._send(instance, phone, kind, _media_object(kind, {"link": url}, caption, filename))

    def send_uploaded_media(
        self, instance, phone: str, media_id: str, kind: str, caption: str = "", filename: str = ""
    ) -> SendResult:
        """Media by the id `POST /{phone-number-id}/media` answered."""
        if kind not in MEDIA_TYPES:
            raise ProviderRejected(f"Unknown media type {kind!r}", code="bad_message")
        return self._send(instance, phone, kind, _media_object(kind, {"id": media_id}, caption, filename))

    def send_template(
        self, instance, phone: str, name: str, language: str, components: list | None = None
    ) -> SendResult:
        """A template by name and language code (e.g. pt_BR), its components' parameters filled."""
        template = {"name": name, "language": {"code": language}}
        if components:
            template["components"] = components
        return self._send(instance, phone, "template", template)

    def send_interactive(self, instance, phone: str, interactive: dict) -> SendResult:
        """Buttons, lists and the like: Meta's `interactive` object, passed through."""
        return self._send(instance, phone, "interactive", interactive)

    def send_choice(self, instance, phone: str, choice: Choice) -> SendResult:
        """Reply buttons for up to 3 options, a list for up to 10 (limits checked when the flow is saved)."""
        return self.send_interactive(instance, phone, cloud_interactive(choice, to=digits(phone))["interactive"])

    def mark_as_read(self, instance, message_id: str) -> bool:
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        response = http.request("POST", _url(instance, "messages"), headers=_headers(instance), json=body)
        _raise_for_answer(response)
        return bool(accepted_json(response, NAME).get("success"))

    def upload_media(self, instance, content: bytes, mimetype: str, filename: str = "file") -> str:
        """Upload a file for later sends; returns Meta's media id."""
        response = http.request(
            "POST",
            _url(instance, "media"),
            headers=_headers(instance),
            data={"messaging_product": "whatsapp", "type": mimetype},
            files={"file": (filename, content, mimetype)},
        )
        _raise_for_answer(response)
        media_id = accepted_json(response, NAME).get("id")
        if not media_id:
            raise ProviderOutcomeUnknown(
                f"{NAME} accepted the upload but its answer has no id", code="unreadable_answer"
            )
        return str(media_id)

    def list_templates(self, instance, *, page_size: int = 100, max_pages: int = 50) -> list[dict]:
        """Every template of the number's WhatsApp Business Account, following Meta's cursors."""
        base = settings.CLOUD_API_BASE_URL.rstrip("/")
        url = f"{base}/{settings.CLOUD_API_VERSION}/{instance.cloud_business_account_id}/message_templates"
        query = f"fields={TEMPLATE_FIELDS}&limit={page_size}"
        templates, after = [], ""
        for _ in range(max_pages):
            response = http.request(
                "GET", f"{url}?{query}" + (f"&after={after}" if after else ""), headers=_headers(instance)
            )
            _raise_for_answer(response)
            payload = accepted_json(response, NAME)
            templates += [t for t in payload.get("data") or [] if isinstance(t, dict)]
            paging = payload.get("paging") if isinstance(payload.get("paging"), dict) else {}
            after = (paging.get("cursors") or {}).get("after") if paging.get("next") else ""
            if not after:
                break
        return templates

    def phone_number_health(self, instance) -> dict:
        """The number as Meta sees it (display number, name, quality rating, status)."""
        response = http.request("GET", _url(instance, f"?fields={HEALTH_FIELDS}", sep=""), headers=_headers(instance))
        _raise_for_answer(response)
        return accepted_json(response, NAME)

    def connection_state(self, instance) -> str:
        """Open when the token reads the number; a refused token raises (and closes it, instance level)."""
        health = self.phone_number_health(instance)
        status = str(health.get("status") or "CONNECTED").upper()
        # Meta's number statuses: CONNECTED, PENDING, FLAGGED, RESTRICTED, BANNED, DISCONNECTED...
        if status in ("CONNECTED", "FLAGGED"):
            return WhatsAppInstance.ConnectionState.OPEN
        if status == "PENDING":
            return WhatsAppInstance.ConnectionState.CONNECTING
        return WhatsAppInstance.ConnectionState.CLOSE

    def _send(self, instance, phone: str, kind: str, content: dict) -> SendResult:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": digits(phone), "type": kind}
        body[kind] = content
        about_to_send()
        response = http.request("POST", _url(instance, "messages"), headers=_headers(instance), json=body)
        _raise_for_answer(response)
        payload = accepted_json(response, NAME)
        messages = payload.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        message_id = first.get("id") if isinstance(first, dict) else None
        if not message_id:
            raise ProviderOutcomeUnknown(
                f"{NAME} accepted the message but its answer has no id",
                status_code=response.status_code,
                body=response.text,
                code="unreadable_answer",
            )
        return SendResult(provider_message_id=str(message_id), accepted_at=timezone.now(), raw=payload)


def media_type(mimetype: str) -> str:
    main = mimetype.split("/", 1)[0]
    if mimetype == "image/webp":
        return "sticker"
    return main if main in ("image", "video", "audio") else "document"


def _media_object(kind: str, source: dict, caption: str, filename: str) -> dict:
    media = dict(source)
    if caption and kind in ("image", "video", "document"):
        media["caption"] = caption
    if filename and kind == "document":
        media["filename"] = filename
    return media


def digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def _url(instance, path: str, sep: str = "/") -> str:
    base = settings.CLOUD_API_BASE_URL.rstrip("/")
    return f"{base}/{settings.CLOUD_API_VERSION}/{instance.cloud_phone_number_id}{sep}{path}"


def _headers(instance) -> dict:
    token = instance.cloud_secrets().get("access_token", "")
    if not token:
        raise ProviderRejected(
            "No access token is stored for this Cloud API number", code="bad_configuration", instance_level=True
        )
    return {"Authorization": f"Bearer {token}"}


def meta_error(payload) -> dict | None:
    """`{"code", "title", "details"}` from a Graph API error answer, None when it is not one."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    return {
        "code": code if isinstance(code, int) and not isinstance(code, bool) else None,
        "title": str(error.get("message") or "")[:300],
        "details": str(data.get("details") or "")[:500],
    }


def window_closed(phone: str) -> CloudRejected:
    """The refusal Meta would give a free-form message outside the contact's 24-hour window, made here."""
    meta = {
        "code": WINDOW_CLOSED_CODE,
        "title": "Re-engagement message",
        "details": "No message from the contact in the last 24 hours: only a template can be sent (checked here)",
    }
    error = CloudRejected(
        f"{NAME}: the 24-hour customer service window of {phone} is closed", code=f"meta_{WINDOW_CLOSED_CODE}"
    )
    error.meta, error.action = meta, action_for(WINDOW_CLOSED_CODE)
    return error


def _raise_for_answer(response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    meta = meta_error(json_or_none(response))
    if meta is None:
        raise_for_status_class(response, NAME, response.text[:200])
    action = action_for(meta["code"])
    message = f"{NAME} refused ({status}, #{meta['code']}): {meta['title']}"
    if meta["details"]:
        message += f" — {meta['details']}"
    kwargs = {"status_code": status, "body": response.text, "code": f"meta_{meta['code']}"}
    if action.kind == INSTANCE or status == 401:
        error = CloudRejected(message, instance_level=True, **kwargs)
    elif action.retryable:
        error = CloudUnavailable(message, **kwargs)
    else:
        error = CloudRejected(message, **kwargs)
    error.meta, error.action = meta, action
    raise error
