"""Attempt limits for secrets people type (revocation codes, tracking codes): N failures for the
same subject within a window lock it (429 with Retry-After). Kept in the database, so every worker
and host sees the same count."""

from __future__ import annotations

from datetime import timedelta

from core.clock import Clock
from core.db import atomic
from enrollment.errors import TooManyAttemptsError
from enrollment.models import CodeAttempt


class AttemptLimiter:
    def __init__(self, clock: Clock, *, max_attempts: int, window_minutes: int) -> None:
        self.clock = clock
        self.max_attempts = max_attempts
        self.window = timedelta(minutes=window_minutes)

    def check(self, subject: str) -> None:
        """Raise :class:`TooManyAttemptsError` while ``subject`` is locked."""
        now = self.clock.now()
        recent = [
            row.at
            for row in CodeAttempt.select(CodeAttempt.at)
            .where((CodeAttempt.subject == subject) & (CodeAttempt.at > now - self.window))
            .order_by(CodeAttempt.at)
        ]
        if len(recent) >= self.max_attempts:
            unlocks = recent[-self.max_attempts] + self.window
            raise TooManyAttemptsError(
                "too many wrong attempts; try again later",
                retry_after_seconds=max(1, int((unlocks - now).total_seconds()) + 1),
            )

    def failed(self, subject: str) -> None:
        with atomic():
            CodeAttempt.create(subject=subject[:60], at=self.clock.now())

    def purge(self) -> int:
        with atomic():
            return int(CodeAttempt.delete().where(CodeAttempt.at <= self.clock.now() - self.window).execute())
