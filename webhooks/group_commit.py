"""Group commit: the requests one process serves at the same time share one statement.

Each request hands its item to `GroupCommit.submit` and waits for its own result. The
first to arrive while no flush is running leads: it takes every item queued so far
(its own included), flushes them with one call and hands each request its result.
Items that arrive meanwhile wait for the next flush, led by the oldest of them. A
request returns only after the flush that holds its item has finished, so what a
flush promises (e.g. "committed") holds for every item; what is shared is the round
trip, the statement's overhead and the WAL flush. With no concurrency a request leads
its own batch of one, at no extra cost. Work that must follow a flush but that nobody
needs to wait for (`after`) runs once the batch has its results and the next leader
has started.
"""

import threading
from collections.abc import Callable


class _Slot:
    __slots__ = ("item", "result", "error", "ready", "leads")

    def __init__(self, item):
        self.item = item
        self.result = None
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self.leads = False


class GroupCommit:
    """Batches concurrent `submit(item)` calls into `flush(items) -> results` (same order, same length).

    `after(items, results)`, if given, runs in the leader after a flush that succeeded.
    A batch whose flush fails is flushed again item by item when `isolate(error)` says
    the error may be one item's fault (a value the statement cannot hold), so that item
    alone hears its error and the others their results; an outage is not retried.
    """

    def __init__(
        self,
        flush: Callable[[list], list],
        *,
        after: Callable[[list, list], None] | None = None,
        max_batch: int = 100,
        isolate: Callable[[BaseException], bool] = lambda error: isinstance(error, Exception),
    ):
        self._flush = flush
        self._after = after
        self._isolate = isolate
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Slot] = []
        self._flushing = False

    def submit(self, item):
        """The result of `flush` for `item`; raises what the flush of its batch raised."""
        slot = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            leads = not self._flushing
            self._flushing = True
        if not leads:
            slot.ready.wait()
            if not slot.leads:
                return self._unwrap(slot)
        self._lead()
        return self._unwrap(slot)

    def _lead(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        items, results = [slot.item for slot in batch], None
        try:
            try:
                results = self._flush_checked(items)
            except Exception as exc:
                if len(batch) == 1 or not self._isolate(exc):
                    raise
                items, results = self._flush_one_by_one(batch)
            else:
                for slot, result in zip(batch, results, strict=True):
                    slot.result = result
        except BaseException as exc:  # noqa: BLE001  (every request of the batch must hear how it ended)
            results = None
            for slot in batch:
                slot.error = exc
        finally:
            with self._lock:
                if self._queue:
                    # Hand over before waking this batch: the next flush starts at once.
                    successor = self._queue[0]
                    successor.leads = True
                    successor.ready.set()
                else:
                    self._flushing = False
            for slot in batch:
                slot.ready.set()
        if results and self._after is not None:
            self._after(items, results)

    def _flush_checked(self, items: list) -> list:
        results = self._flush(items)
        if len(results) != len(items):
            raise RuntimeError(f"flush returned {len(results)} results for {len(items)} items")
        return results

    def _flush_one_by_one(self, batch: list[_Slot]) -> tuple[list, list]:
        """Each item of a failed batch alone: (items that flushed, their results); the others keep their error."""
        items, results = [], []
        for slot in batch:
            try:
                (slot.result,) = self._flush_checked([slot.item])
            except Exception as exc:  # noqa: BLE001  (this item's own answer)
                slot.error = exc
            else:
                items.append(slot.item)
                results.append(slot.result)
        return items, results

    @staticmethod
    def _unwrap(slot: _Slot):
        if slot.error is not None:
            raise slot.error
        return slot.result
