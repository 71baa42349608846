"""Message templates of Cloud API numbers: synced from the account, updated by Meta's notices.

`sync_templates()` reads every template of the number's WhatsApp Business Account
(`GET /{waba-id}/message_templates`) and keeps them as `MessageTemplate` rows; the beat
job `instances: sync message templates` runs it for every active Cloud number.
`apply_status_update()` is the `message_template_status_update` webhook: the new status
(and Meta's reason) on the template it names, at once rather than at the next sync.
"""

from django.utils import timezone

from instances.models import MessageTemplate, WhatsAppInstance
from instances.providers import get_provider
from instances.providers.base import ProviderError


def sync_templates(*, instance: WhatsAppInstance) -> int:
    """Store what Meta has for the number's account; returns how many templates it has."""
    now = timezone.now()
    seen = 0
    for template in get_provider("cloud").list_templates(instance):
        name, language = str(template.get("name") or ""), str(template.get("language") or "")
        if not name or not language:
            continue
        quality = template.get("quality_score") if isinstance(template.get("quality_score"), dict) else {}
        MessageTemplate.objects.update_or_create(
            organization_id=instance.organization_id,
            business_account_id=instance.cloud_business_account_id,
            name=name[:512],
            language=language[:16],
            defaults={
                "meta_id": str(template.get("id") or "")[:32],
                "category": str(template.get("category") or "")[:32],
                "status": str(template.get("status") or "")[:32],
                "quality": str(quality.get("score") or "")[:16],
                "reason": str(template.get("rejected_reason") or "")[:255],
                "components": template.get("components") if isinstance(template.get("components"), list) else [],
                "synced_at": now,
            },
        )
        seen += 1
    return seen


def apply_status_update(
    *, instance: WhatsAppInstance, meta_id: str, name: str, language: str, status: str, reason: str = ""
) -> str:
    """Meta changed a template's status; returns the result word for the webhook's row."""
    templates = MessageTemplate.objects.filter(
        organization_id=instance.organization_id, business_account_id=instance.cloud_business_account_id
    )
    by_id = templates.filter(meta_id=meta_id) if meta_id else templates.none()
    target = by_id if by_id.exists() else templates.filter(name=name, language=language)
    reason = "" if reason.upper() == "NONE" else reason
    if target.update(status=status[:32], reason=reason[:255], synced_at=timezone.now()):
        return f"template_{status.lower()}"[:64]
    MessageTemplate.objects.create(
        organization_id=instance.organization_id,
        business_account_id=instance.cloud_business_account_id,
        meta_id=meta_id[:32],
        name=name[:512],
        language=language[:16],
        status=status[:32],
        reason=reason[:255],
        synced_at=timezone.now(),
    )
    return f"template_new_{status.lower()}"[:64]


def sync_all() -> dict[int, int | str]:
    """The beat job: every active Cloud number's account, once (numbers sharing an account share it)."""
    results, accounts = {}, set()
    numbers = WhatsAppInstance.objects.filter(
        provider=WhatsAppInstance.Provider.CLOUD, status=WhatsAppInstance.Status.ACTIVE
    ).exclude(cloud_business_account_id="")
    for instance in numbers:
        key = (instance.organization_id, instance.cloud_business_account_id)
        if key in accounts:
            continue
        accounts.add(key)
        try:
            results[instance.id] = sync_templates(instance=instance)
        except ProviderError as exc:  # one account's failure must not stop the others'
            results[instance.id] = f"{type(exc).__name__}: {exc}"[:200]
    return results
