"""Opt-out and opt-in keywords: a whole message, not a word inside a sentence.

"SAIR", "sair." and "Não quero!" opt out; "não quero sair do grupo" does not. The
message is trimmed of punctuation and accents, case-folded and its spaces collapsed,
then compared with each of the organization's keywords treated the same way.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings

_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class KeywordPolicy:
    opt_out: tuple[str, ...]
    opt_in: tuple[str, ...]
    confirmation_text: str = ""


def normalize(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", bare).split())


def matching_keyword(text: str, keywords) -> str:
    """The keyword `text` is, or ""."""
    said = normalize(text)
    if not said:
        return ""
    return next((keyword for keyword in keywords if normalize(keyword) == said), "")


def policy_for(*, organization_id: int) -> KeywordPolicy:
    from webhooks.models import OptOutSettings

    row = OptOutSettings.objects.filter(organization_id=organization_id).first()
    opt_out = tuple(row.opt_out_keywords) if row and row.opt_out_keywords else tuple(settings.WEBHOOKS_OPT_OUT_KEYWORDS)
    opt_in = tuple(row.opt_in_keywords) if row and row.opt_in_keywords else tuple(settings.WEBHOOKS_OPT_IN_KEYWORDS)
    return KeywordPolicy(opt_out=opt_out, opt_in=opt_in, confirmation_text=row.confirmation_text if row else "")
