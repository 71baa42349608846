"""GroupCommit with real threads: who flushes what, and what every caller gets back."""

import threading
import time

import pytest

from webhooks.group_commit import GroupCommit


class Flusher:
    """Records each batch; the first flush holds until `hold` is released."""

    def __init__(self, *, fail_first: bool = False):
        self.batches: list[list] = []
        self.hold = threading.Event()
        self.fail_first = fail_first

    def __call__(self, items):
        first = not self.batches
        self.batches.append(list(items))
        if first:
            assert self.hold.wait(timeout=10)
            if self.fail_first:
                raise ConnectionError("database went away")
        return [item * 10 for item in items]


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def submit_all(group, items):
    """Submit each item from its own thread; returns {item: result or exception}."""
    answers, threads = {}, []

    def run(item):
        try:
            answers[item] = group.submit(item)
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            answers[item] = exc

    for item in items:
        threads.append(threading.Thread(target=run, args=(item,)))
        threads[-1].start()
    return answers, threads


def submit_behind_a_held_flush(group, flusher, first, then):
    """`first` leads and holds its flush until every item of `then` queued behind it; all answers."""
    answers, threads = submit_all(group, [first])
    wait_until(lambda: flusher.batches)
    more, more_threads = submit_all(group, then)
    wait_until(lambda: len(group._queue) == len(then))
    flusher.hold.set()
    for thread in threads + more_threads:
        thread.join(timeout=10)
    return answers | more


def test_a_lone_submit_flushes_its_own_batch_of_one():
    flusher = Flusher()
    flusher.hold.set()

    assert GroupCommit(flusher).submit(7) == 70
    assert flusher.batches == [[7]]


def test_requests_arriving_during_a_flush_share_the_next_one_and_each_gets_its_own_result():
    flusher = Flusher()

    answers = submit_behind_a_held_flush(GroupCommit(flusher), flusher, 1, [2, 3, 4, 5])

    assert flusher.batches[0] == [1]
    assert sorted(flusher.batches[1]) == [2, 3, 4, 5]
    assert answers == {1: 10, 2: 20, 3: 30, 4: 40, 5: 50}


def test_a_failed_flush_reaches_every_request_of_its_batch_and_the_next_batch_still_flushes():
    flusher = Flusher(fail_first=True)
    group = GroupCommit(flusher)

    answers = submit_behind_a_held_flush(group, flusher, 1, [2, 3])

    assert isinstance(answers.pop(1), ConnectionError)
    assert answers == {2: 20, 3: 30}
    assert group.submit(4) == 40  # nobody is left holding the lead


def test_after_runs_in_the_leader_once_per_flushed_batch_and_not_after_a_failed_one():
    flusher, seen = Flusher(fail_first=True), []
    group = GroupCommit(flusher, after=lambda items, results: seen.append((sorted(items), sorted(results))))

    submit_behind_a_held_flush(group, flusher, 1, [2, 3])

    assert seen == [([2, 3], [20, 30])]


def test_a_batch_is_capped_and_the_rest_waits_for_the_next_flush():
    flusher = Flusher()

    answers = submit_behind_a_held_flush(GroupCommit(flusher, max_batch=2), flusher, 1, [2, 3, 4])

    assert [len(batch) for batch in flusher.batches] == [1, 2, 1]
    assert answers == {1: 10, 2: 20, 3: 30, 4: 40}


def test_a_flush_that_answers_for_the_wrong_number_of_items_fails_its_batch():
    group = GroupCommit(lambda items: [])

    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        group.submit(1)


class PoisonFlusher(Flusher):
    """A batch holding the poison item fails as a whole, as one SQL statement would."""

    def __call__(self, items):
        results = super().__call__(items)
        if 13 in items:
            raise ValueError("item 13 cannot be stored")
        return results


def test_a_poison_item_fails_alone_and_its_neighbours_get_their_results():
    flusher = PoisonFlusher()
    seen = []
    group = GroupCommit(flusher, after=lambda items, results: seen.append((sorted(items), sorted(results))))

    answers = submit_behind_a_held_flush(group, flusher, 1, [2, 13, 3, 4])

    assert isinstance(answers.pop(13), ValueError)
    assert answers == {1: 10, 2: 20, 3: 30, 4: 40}
    assert sorted(len(batch) for batch in flusher.batches[2:]) == [1, 1, 1, 1]  # each alone, once
    assert ([2, 3, 4], [20, 30, 40]) in seen


def test_an_outage_is_not_retried_item_by_item():
    flusher = Flusher(fail_first=True)
    group = GroupCommit(flusher, isolate=lambda exc: not isinstance(exc, ConnectionError))

    answers = submit_behind_a_held_flush(group, flusher, 1, [2])

    assert isinstance(answers[1], ConnectionError)
    assert flusher.batches == [[1], [2]]
