"""CSV cells a spreadsheet would run as a formula, neutralized (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets evaluate a cell that starts with `=`, `+`, `-` or
`@` (and one that starts with a tab or carriage return followed by one of them), so an
echoed value such as `=cmd|' /C calc'!A0` runs on the operator's machine. Such a cell is
prefixed with `'`, which makes it text. A plain number (`+5511987654321`, `-5`) is left
as it is: it evaluates to itself, and phones stay readable. Every CSV the product writes
from untrusted values goes through `safe_row` (import error reports, execution reports).
"""

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)*")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe_cell(value) for value in values]
