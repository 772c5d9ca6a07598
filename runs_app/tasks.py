"""Background work of the runs app (Celery tasks: thin, and given ids only)."""

from __future__ import annotations

from uuid import UUID

from celery import Task, shared_task

from runs_app import forwarding


@shared_task(name="runs_app.forward_run")
def forward_run(
    task_run_id: str, forwarder_id: str, delivery_id: str, attempt: int = 1
) -> None:
    """One attempt to deliver a run to a task forwarder; on failure, queue the
    next after its pause.

    A new message per attempt rather than `self.retry`: without a broker tasks
    run eagerly, and Celery then raises the retry into the caller, which here
    is the request that ran the task.
    """
    retry_in = forwarding.delivery_attempt(
        task_run_id=UUID(task_run_id),
        forwarder_id=UUID(forwarder_id),
        delivery_id=UUID(delivery_id),
        attempt=attempt,
    )
    if retry_in is not None:
        forward_run.apply_async(
            args=(task_run_id, forwarder_id, delivery_id, attempt + 1),
            countdown=retry_in,
        )


@shared_task(name="runs_app.execute_queued_run", acks_late=True, bind=True)
def execute_queued_run(self: Task, task_run_id: str) -> None:
    """Carry out a run submitted asynchronously (`?async=true`, the dashboard)."""
    from runs_app.services import run_complete_queued

    delivery = self.request.delivery_info or {}
    run_complete_queued(
        run_id=UUID(task_run_id), redelivered=bool(delivery.get("redelivered"))
    )


@shared_task(name="runs_app.fail_stuck_runs")
def fail_stuck_runs() -> int:
    """The sweeper (beat, every RB_STUCK_RUN_SWEEP_SECONDS): fail the runs whose
    worker died or that the queue never reached."""
    from runs_app.services import runs_fail_stuck

    return runs_fail_stuck()
