"""Which option of a choice step a reply picks. Pure: no database, no provider.

A reply picks an option, tried in this order:
1. a tap: the option's id (a Cloud API button or list reply carries it);
2. a poll vote: the chosen option's label (Evolution delivers the vote's option names);
3. the option's number: "2", "2.", "2)", "opção 2", "#2";
4. the option's label or id, case, accents, punctuation and extra spaces ignored
   ("Opção B", "opcao b"); this is also what a title-only reply (Evolution's Cloud
   mode forwards the tapped title, not its id) matches.
A burst of messages that picks nothing as a whole is tried by its last line. Anything
else picks nothing: the engine re-prompts, then takes the "other" branch.
"""

import re
from dataclasses import dataclass

from flows.text import fold

_NUMBER = re.compile(r"^(?:(?:opcao|opc|op|option|numero|n|no)\s*)?#?\s*(\d{1,2})\s*[.)ºo°-]?$")
_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class OptionSpec:
    key: str
    label: str
    description: str = ""
    target_subflow_id: int | None = None


@dataclass(frozen=True)
class ChoiceSpec:
    options: tuple[OptionSpec, ...]
    other_subflow_id: int | None = None
    max_reprompts: int = 2
    reprompt_text: str = ""
    list_button: str = ""


def pick_option(
    options: tuple[OptionSpec, ...], *, text: str = "", tap_id: str = "", poll_votes: tuple[str, ...] = ()
) -> OptionSpec | None:
    """The option a reply picks, or None (see the module's rules)."""
    if tap_id:
        for option in options:
            if option.key == tap_id:
                return option
    for vote in poll_votes:
        wanted = _plain(vote)
        for option in options:
            if _plain(option.label) == wanted:
                return option
    option = _by_text(options, text)
    if option is None and "\n" in text.strip():
        # A burst of messages: the last one may be the answer ("oi" then "2").
        option = _by_text(options, text.strip().rsplit("\n", 1)[-1])
    return option


def _by_text(options: tuple[OptionSpec, ...], text: str) -> OptionSpec | None:
    reply = _plain(text)
    if not reply:
        return None
    number = _NUMBER.match(reply)
    if number:
        index = int(number.group(1)) - 1
        return options[index] if 0 <= index < len(options) else None
    for option in options:
        if reply in (_plain(option.label), _plain(option.key)):
            return option
    return None


def _plain(text: str) -> str:
    """`  Opção  B! ` -> `opcao b`: folded, punctuation dropped, spaces collapsed."""
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", fold(text or ""))).strip()
