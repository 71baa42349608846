"""Opt-out and opt-in keywords: a whole message, not a word inside a sentence.

"SAIR", "sair." and "Não quero!" opt out; "não quero sair do grupo" does not. The
message is trimmed of punctuation and accents, case-folded and its spaces collapsed,
then compared with each of the organization's keywords treated the same way.
"""

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")


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
