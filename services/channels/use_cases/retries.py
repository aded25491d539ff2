"""When a task is tried again: the one backoff rule, and the attempts after which it is given up."""

from __future__ import annotations

import random

from services.channels.settings import ChannelsSettings
from services.channels.store.tasks import DueTask, TaskResult
from shared.backoff import backoff_seconds


def retry_in(settings: ChannelsSettings, attempts: int, retry_after: float | None = None) -> float:
    wait = backoff_seconds(
        attempts,
        first=settings.task_first_retry_seconds,
        cap=settings.task_max_backoff_seconds,
        jitter=random.random(),  # noqa: S311 - spreading retries, not a secret
    )
    return max(wait, retry_after or 0.0)


def give_up_or_retry(
    settings: ChannelsSettings, task: DueTask, error: str, retry_after: float | None = None
) -> TaskResult:
    if task.attempts >= settings.task_attempts:
        return TaskResult(task.seq, "failed", "gave up", f"{error} (after {task.attempts} attempts)")
    return TaskResult(task.seq, "pending", None, error, retry_in(settings, task.attempts, retry_after))
