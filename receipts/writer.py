"""Group commit for receipts: the rows (and their audit records) of every thread of a worker
waiting at the same moment go into one transaction, so concurrent requests share one durable
commit (one fsync on SQLite with synchronous=FULL) instead of queueing for one each.

Leader/follower, as :mod:`tsa.recorder`: the first thread to find no commit in flight commits
everything pending, in its own (request) connection; the others wait for their batch. A receipt
is answered only after its batch committed. If the batch fails on a unique constraint (a number
clash, a racing Idempotency-Key), each item is retried in its own transaction so only the
colliding ones fail, with the same exception they would have had alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import peewee as pw

from core.db import atomic

T = TypeVar("T")
MAX_BATCH = 100


@dataclass
class _Item(Generic[T]):
    write: Callable[[], T]
    result: T | None = None
    error: BaseException | None = None


@dataclass
class _Batch:
    items: list[_Item[object]] = field(default_factory=list)
    done: bool = False


class GroupWriter:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending = _Batch()
        self._committing = False

    def write(self, action: Callable[[], T]) -> T:
        """Run ``action`` (inserts + audit records) in a transaction shared with concurrent
        callers; return its result once committed, or raise its own error."""
        item: _Item[object] = _Item(action)
        with self._cond:
            batch = self._pending
            batch.items.append(item)
            while not batch.done and self._committing:
                self._cond.wait()
            leading = not batch.done
            if leading:
                self._committing = True
                self._pending = _Batch()
        if leading:
            try:
                for start in range(0, len(batch.items), MAX_BATCH):
                    _commit(batch.items[start : start + MAX_BATCH])
            finally:
                with self._cond:
                    batch.done = True
                    self._committing = False
                    self._cond.notify_all()
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[return-value]


def _commit(items: list[_Item[object]]) -> None:
    if len(items) > 1:
        try:
            with atomic():
                results = [i.write() for i in items]
            for i, result in zip(items, results, strict=True):
                i.result = result
            return
        except pw.IntegrityError:
            pass  # retried one by one below: only the colliding items fail
        except BaseException as exc:
            for i in items:
                i.error = exc
            return
    for i in items:
        try:
            with atomic():
                i.result = i.write()
        except BaseException as exc:
            i.error = exc
