"""The one error family of the integrations app, saying whether a retry is safe.

- `IntegrationUnavailable`: the partner proved it did nothing (connection refused, a 5xx,
  a 429): retried with backoff.
- `IntegrationRejected`: the partner refused for good (a 4xx, bad settings): not retried.
- `IntegrationOutcomeUnknown`: the request was written and no answer came (read timeout,
  dropped connection): the partner may have acted, so it is never repeated.
"""


class IntegrationError(Exception):
    def __init__(self, message: str, *, code: str = "", status_code: int | None = None):
        super().__init__(message)
        self.code = code
        self.status_code = status_code


class IntegrationUnavailable(IntegrationError):
    retryable = True


class IntegrationRejected(IntegrationError):
    retryable = False


class IntegrationOutcomeUnknown(IntegrationError):
    retryable = False
