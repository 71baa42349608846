"""Text rules of the engine: keyword matching, variables, file types. Pure functions."""

import logging
import mimetypes
import re
import unicodedata
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

_WORD = re.compile(r"\w+")
_PLACEHOLDER = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def fold(text: str) -> str:
    """Lower case without accents: `Preço` -> `preco`."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def matches_keyword(text: str, keyword: str) -> bool:
    """Whether `keyword` (one or more words) occurs in `text` as whole words, ignoring case and accents.

    `preço` matches `Qual o PRECO?`; `sair` does not match `saíram`.
    """
    wanted = words(keyword)
    if not wanted:
        return False
    have = words(text)
    size = len(wanted)
    return any(have[i : i + size] == wanted for i in range(len(have) - size + 1))


def matches_any(text: str, keywords) -> bool:
    return any(matches_keyword(text, keyword) for keyword in keywords)


def render(template: str, variables: dict, *, context: str = "") -> str:
    """Fill `{{name}}` (or `{{a.b}}`) from `variables`; a missing one renders empty and is logged."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        value = variables
        for part in name.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            else:
                logger.warning("missing variable %r rendering %s", name, context or "a message")
                return ""
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(replace, template)


def placeholders(template: str) -> list[str]:
    """The variable names `render` would fill in `template`, in order."""
    return _PLACEHOLDER.findall(template or "")


def file_kind(*, mimetype: str = "", filename: str = "", url: str = "") -> tuple[str, str]:
    """(extension without dot, MIME type) of a file, from whatever the provider told us."""
    name = filename or urlparse(url).path.rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not mimetype or "/" not in mimetype:
        mimetype = mimetypes.guess_type(f"x.{extension}")[0] or "" if extension else ""
    return extension, mimetype.lower()


def accepts_file(expected: list[str] | tuple[str, ...], *, extension: str, mimetype: str) -> bool:
    """Whether a file of `extension`/`mimetype` is one of `expected` (extensions, MIME types, `type/*`).

    Nothing expected accepts any file.
    """
    if not expected:
        return True
    for wanted in expected:
        wanted = wanted.strip().lower()
        if "/" in wanted:
            if wanted.endswith("/*") and mimetype.startswith(wanted[:-1]):
                return True
            if wanted == mimetype:
                return True
        elif wanted.lstrip(".") == extension and extension:
            return True
    return False
