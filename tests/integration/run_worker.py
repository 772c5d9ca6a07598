"""`python -m tests.integration.run_worker ARGS`: `celery -A rightbrain worker
ARGS`, whose default queue is RB_TEST_QUEUE, so the messages the worker sends
itself (a forwarder's next attempt) reach the test's queue like the test's own."""

from __future__ import annotations

import os
import sys

from rightbrain.celery import app

if __name__ == "__main__":
    app.conf.task_default_queue = os.environ["RB_TEST_QUEUE"]
    app.worker_main(["worker", *sys.argv[1:]])
