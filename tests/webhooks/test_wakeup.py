"""The drain waker: one thread per process, one attempt per interval, none missed."""

import threading
import time

import pytest

from webhooks import wakeup


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


@pytest.fixture
def attempts(monkeypatch):
    """Each attempt the waker makes; the first waits for `release` when `hold` is set."""

    class Attempts(list):
        hold = False
        started = threading.Event()
        release = threading.Event()

    made = Attempts()

    def schedule_drain(*, event_ids):
        made.append(event_ids)
        made.started.set()
        if made.hold and len(made) == 1:
            assert made.release.wait(timeout=10)

    monkeypatch.setattr(wakeup, "schedule_drain", schedule_drain)
    return made


def test_asks_within_an_interval_make_one_attempt(attempts):
    waker = wakeup.DrainWaker(interval=0.05)

    for _ in range(5):
        waker.ask()
    wait_until(lambda: attempts)
    time.sleep(0.2)

    assert attempts == [[]]


def test_an_ask_while_an_attempt_is_made_gets_an_attempt_of_its_own(attempts):
    attempts.hold = True
    waker = wakeup.DrainWaker(interval=0.01)
    waker.ask()
    assert attempts.started.wait(timeout=10)

    waker.ask()  # its event committed after the attempt began: that attempt may not cover it
    attempts.release.set()
    wait_until(lambda: len(attempts) == 2)
    time.sleep(0.1)

    assert len(attempts) == 2


def test_a_failed_attempt_does_not_stop_the_waker(monkeypatch):
    calls = []

    def schedule_drain(*, event_ids):
        calls.append(event_ids)
        if len(calls) == 1:
            raise ConnectionError("Redis is down")

    monkeypatch.setattr(wakeup, "schedule_drain", schedule_drain)
    waker = wakeup.DrainWaker(interval=0.01)

    waker.ask()
    wait_until(lambda: calls)
    waker.ask()
    wait_until(lambda: len(calls) == 2)
