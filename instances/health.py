"""The health score of a number (the formula documented on `WhatsAppInstance`)."""

# The score only moves on today's rates once today has this many attempts.
HEALTH_MIN_SAMPLE = 20
HEALTH_CLOSE_PENALTY = 20


def compute_health_score(*, sent: int, delivered: int, read: int, failed: int, disconnects: int, previous: int) -> int:
    """The formula documented on `WhatsAppInstance`."""
    attempts = sent + failed
    if attempts < HEALTH_MIN_SAMPLE:
        return previous
    delivered = max(delivered, read)
    delivery_rate = min(delivered / sent, 1.0) if sent else 0.0
    read_rate = min(read / sent, 1.0) if sent else 0.0
    score = 100 - 50 * failed / attempts - 30 * (1 - delivery_rate) - 10 * (1 - read_rate) - 10 * min(disconnects, 3)
    return max(0, min(100, round(score)))
