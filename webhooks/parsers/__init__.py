"""One parser module per provider format; each turns a payload into `webhooks.events`.

A parser raises `BadPayload` naming the path of the bad field (answered 400).
"""

from webhooks.parsers import gosac

PARSERS = {
    "gosac": gosac.parse,
}
