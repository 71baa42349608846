"""Meta's Cloud API error codes, and what the product does about each: the one table.

Meta answers a refused send with `{"error": {"code": 131026, "message": "(#131026) Message
undeliverable", "error_data": {"details": "..."}}}`, and reports a send that failed later
in the `errors` of a `failed` status webhook, with the same codes. Meta's advice is to
decide on `code` (and read `details`), never on the title
(https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/).

`ACTIONS` maps a code to an `Action`; `action_for(code)` adds the ranges (132000-132999
are template and parameter errors) and the default for a code not in the table (fail,
naming the code). The provider client turns the action into an error class
(`instances.providers.cloud`); the dispatcher turns it into a recipient's next state
(`campaigns.sending.cloud_errors`).

    kind              the send was                 the recipient
    retry             refused, safe to repeat      pending again after `wait_seconds` (growing)
    wait_contact      refused for this contact     pending again after `wait_seconds`
    backoff           refused for hours            pending again after 1 h, 2 h, 4 h ...
    window_closed     refused: free-form outside   its fallback template, else failed naming it
                      the 24 h window
    unreachable       refused for good             failed; the contact marked not reachable
    stop_step         refused: template/params     failed; the campaign's execution paused
    instance          refused for the number       left pending; the number closed
    fail              refused                      failed with the code
"""

from dataclasses import dataclass

RETRY = "retry"
WAIT_CONTACT = "wait_contact"
BACKOFF = "backoff"
WINDOW_CLOSED = "window_closed"
UNREACHABLE = "unreachable"
STOP_STEP = "stop_step"
INSTANCE = "instance"
FAIL = "fail"

RETRYABLE = frozenset({RETRY, WAIT_CONTACT, BACKOFF})


@dataclass(frozen=True)
class Action:
    kind: str
    wait_seconds: int = 0
    max_attempts: int = 0  # retries before the recipient fails; 0 when it never retries
    reason: str = ""

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    def wait_before(self, attempt: int) -> int:
        """Seconds to wait before retry number `attempt` (0-based): doubling from `wait_seconds`."""
        return self.wait_seconds * 2 ** max(0, attempt)


HOUR = 3600

ACTIONS: dict[int, Action] = {
    # Throughput: the number's messages per second are spent. Seconds, then again.
    130429: Action(RETRY, wait_seconds=2, max_attempts=8, reason="throughput reached"),
    # Pair rate: too many messages to this one contact in a short time. Only it waits.
    131056: Action(WAIT_CONTACT, wait_seconds=60, max_attempts=5, reason="pair rate limit for this contact"),
    # Per-user marketing limit (Meta chose not to deliver): hours, growing, then give up.
    131049: Action(BACKOFF, wait_seconds=HOUR, max_attempts=4, reason="per-user marketing limit"),
    # Something went wrong at Meta: retry like any server error.
    131000: Action(RETRY, wait_seconds=30, max_attempts=5, reason="Meta internal error"),
    # Re-engagement: more than 24 h since the contact's last message; only a template goes.
    131047: Action(WINDOW_CLOSED, reason="the 24-hour customer service window is closed"),
    # Undeliverable: not on WhatsApp, old client, terms not accepted.
    131026: Action(UNREACHABLE, reason="not reachable on WhatsApp"),
    # A required parameter is missing: every recipient of the step would fail the same way.
    131008: Action(STOP_STEP, reason="a required parameter is missing"),
    131009: Action(STOP_STEP, reason="a parameter value is not valid"),
    # The number's credentials or account: every message through it would fail.
    0: Action(INSTANCE, reason="authentication failed"),
    190: Action(INSTANCE, reason="the access token expired or is invalid"),
    200: Action(INSTANCE, reason="the access token lacks a permission"),
    131031: Action(INSTANCE, reason="the business account is locked"),
}

TEMPLATE_ERRORS = range(132000, 133000)
TEMPLATE_ERROR = Action(STOP_STEP, reason="template or template parameter error")


def action_for(code: int | None) -> Action:
    if code in ACTIONS:
        return ACTIONS[code]
    if code in TEMPLATE_ERRORS:
        return TEMPLATE_ERROR
    return Action(FAIL, reason=f"Meta error {code}" if code is not None else "Meta error without a code")
