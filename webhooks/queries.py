"""Reads the webhooks' routing needs: an organization's opt-out keywords and confirmation."""

from dataclasses import dataclass

from django.conf import settings

from webhooks.models import OptOutSettings


@dataclass(frozen=True)
class KeywordPolicy:
    opt_out: tuple[str, ...]
    opt_in: tuple[str, ...]
    confirmation_text: str = ""


def policy_for(*, organization_id: int) -> KeywordPolicy:
    row = OptOutSettings.objects.filter(organization_id=organization_id).first()
    opt_out = tuple(row.opt_out_keywords) if row and row.opt_out_keywords else tuple(settings.WEBHOOKS_OPT_OUT_KEYWORDS)
    opt_in = tuple(row.opt_in_keywords) if row and row.opt_in_keywords else tuple(settings.WEBHOOKS_OPT_IN_KEYWORDS)
    return KeywordPolicy(opt_out=opt_out, opt_in=opt_in, confirmation_text=row.confirmation_text if row else "")
