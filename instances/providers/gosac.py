"""GOSAC client: `POST {base}/send-message` and `GET {base}/contacts/{id}`.

GOSAC addresses people by its own contact id, not by phone number. Callers that know
the id (a conversation that started with a GOSAC webhook) pass it as `phone`; an
E.164 number is sent as its digits. GOSAC's API has no media message nor connection
state endpoint: media goes as a text with its link, and a configured integration is
reported as open (a send refused for its credentials closes it).
"""

import re

from instances import http
from instances.models import WhatsAppInstance
from instances.providers.answers import accepted_json, json_or_none, parse_timestamp, raise_for_status_class
from instances.providers.base import Provider, ProviderOutcomeUnknown, ProviderRejected, SendResult, about_to_send

NAME = "GOSAC"


class Gosac(Provider):
    def send_text(self, instance, phone: str, text: str) -> SendResult:
        body = {"contact_id": contact_id(phone), "message": text}
        about_to_send()
        response = http.request("POST", _url(instance, "send-message"), headers=_headers(instance), json=body)
        _raise_for_answer(response)
        payload = accepted_json(response, NAME)
        message = payload.get("message")
        message_id = payload.get("id") or (message.get("id") if isinstance(message, dict) else None)
        if not message_id:
            raise ProviderOutcomeUnknown(
                f"{NAME} accepted the message but its answer has no id",
                status_code=response.status_code,
                body=response.text,
                code="unreadable_answer",
            )
        return SendResult(
            provider_message_id=str(message_id), accepted_at=parse_timestamp(payload.get("timestamp")), raw=payload
        )

    def send_media(
        self, instance, phone: str, url: str, caption: str = "", filename: str = "", mimetype: str = ""
    ) -> SendResult:
        return self.send_text(instance, phone, f"{caption}\n{url}".strip())

    def connection_state(self, instance) -> str:
        # GOSAC reports no connection state: a configured integration is taken as open, and a
        # send it refuses for the instance's credentials closes it (instances.services._send).
        configured = instance.base_url and instance.api_key and instance.integration_key
        return WhatsAppInstance.ConnectionState.OPEN if configured else WhatsAppInstance.ConnectionState.CLOSE

    def get_contact(self, instance, contact: str) -> dict:
        response = http.request("GET", _url(instance, f"contacts/{contact_id(contact)}"), headers=_headers(instance))
        _raise_for_answer(response)
        return accepted_json(response, NAME)


def contact_id(phone: str) -> str:
    return re.sub(r"\D", "", phone) if phone.startswith("+") else phone


def _url(instance, path: str) -> str:
    return f"{instance.base_url.rstrip('/')}/{path}"


def _headers(instance) -> dict:
    return {"Authorization": instance.api_key, "INTEGRATION": instance.integration_key}


def _raise_for_answer(response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    payload = json_or_none(response)
    detail = ""
    if isinstance(payload, dict):
        detail = str(payload.get("message") or payload.get("error") or "")
    detail = detail or response.text[:200]
    if status == 404:
        raise ProviderRejected(
            f"{NAME} does not know this contact: {detail}", status_code=status, body=response.text, code="not_found"
        )
    raise_for_status_class(response, NAME, detail)
