"""A poll vote in an Evolution `messages.update` (see tests/fixtures/evolution/polls/README.md).

Evolution v2 does not post a vote as a message: it posts a `messages.update` of the poll
we sent (`keyId`, `fromMe: true`) carrying `pollUpdates`, the votes aggregated per option,
`[{"name": label, "voters": [jid, ...]}]`. The options with a voter are the vote; the flow
resolves a label to its option (labels of a step are unique).
"""

from webhooks.checked import Checked


def voted_labels(item: Checked) -> tuple[str, ...] | None:
    """The labels voted for in this update, `()` when a vote was withdrawn; None when it is no vote."""
    updates = item.get("pollUpdates")
    if updates.missing or updates.value is None:
        return None
    labels = []
    for update in updates.items():
        update = update.object()
        voters = update.get("voters").value
        if isinstance(voters, list) and voters:
            labels.append(update["name"].string(max_length=100))
    return tuple(labels)
