"""Deck and report built ahead: one background thread builds the files of the view the share
page shows, so that a click mostly finds them ready."""
from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import Callable, TypeVar

# The share page starts the deck and the report of the view it shows as soon as it is drawn, in one
# background thread, so a click mostly finds the file ready (or part-built: it waits for the rest,
# never builds twice). Keys are the views, filters, date and link base: a changed view is a new build.
# The newest request is built first (older ones are views the user has left); a click on a build
# not started yet builds it at once in the click's own thread.
T = TypeVar("T")
_AHEAD_MAX = 6  # builds kept (a deck is ~1-3 MB); the oldest go first
_ahead: "OrderedDict[tuple, Future]" = OrderedDict()
_pending: "OrderedDict[tuple, Callable[[], object]]" = OrderedDict()  # not started, newest last
_ahead_lock = threading.Lock()
_ahead_wake = threading.Condition(_ahead_lock)
_ahead_worker: threading.Thread | None = None


def _run(future: Future, build: Callable[[], object]) -> None:
    try:
        future.set_result(build())
    except BaseException as error:  # noqa: BLE001 - handed to whoever waits for the file
        future.set_exception(error)


def _work() -> None:
    while True:
        with _ahead_wake:
            while not _pending:
                _ahead_wake.wait()
            key, build = _pending.popitem(last=True)  # the newest view first
            future = _ahead.get(key)
        if future is not None and future.set_running_or_notify_cancel():
            _run(future, build)


def built_ahead(key: tuple, build: Callable[[], T]) -> "Future[T]":
    """The one build of `key`: queued now for the background thread if it was not yet, else the
    queued, running or finished one. `.result()` gives the bytes (or raises the build's error)."""
    global _ahead_worker
    with _ahead_wake:
        future = _ahead.get(key)
        if future is not None and not (future.done() and future.exception() is not None):
            _ahead.move_to_end(key)
            if key in _pending:
                _pending.move_to_end(key)
            return future
        future = Future()
        _ahead[key] = future
        _pending[key] = build
        while len(_ahead) > _AHEAD_MAX:
            old_key, old = _ahead.popitem(last=False)
            if _pending.pop(old_key, None) is not None:
                old.cancel()  # never started: nobody waits for a view this old
        if _ahead_worker is None or not _ahead_worker.is_alive():
            _ahead_worker = threading.Thread(target=_work, name="deck-ahead", daemon=True)
            _ahead_worker.start()
        _ahead_wake.notify()
        return future


def ahead_result(key: tuple, build: Callable[[], T]) -> T:
    """The file of `key`: the finished build, the rest of a running one, or (not started yet)
    built now in this thread."""
    from concurrent.futures import CancelledError
    future = built_ahead(key, build)
    with _ahead_lock:
        mine = _pending.pop(key, None) is not None and future.set_running_or_notify_cancel()
    if mine:
        _run(future, build)
    try:
        return future.result()
    except CancelledError:  # dropped by newer views while waiting: build it here
        return build()
