from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from rightbrain.ids import uuid7
from rightbrain.orgs.models import ApiKey, Project
from tasks_app.models import LLMModel, Task, TaskRevision

# Rollup rows key "no reporting group" with this id: NULLs never conflict in a
# unique index, and the hourly upsert needs them to.
NO_GROUP = uuid.UUID(int=0)


class ReportingGroup(models.Model):
    """A label callers put on runs (a customer, a feature) to split reports."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="reporting_groups"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], name="reporting_group_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TaskRun(models.Model):
    """One execution of a task revision, successful or not.

    A synchronous run is written once, finished. An asynchronous one is
    written `queued` when submitted and completed once by the worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="runs")
    task_revision = models.ForeignKey(
        TaskRevision, on_delete=models.CASCADE, related_name="runs"
    )
    response = models.JSONField(null=True)
    run_data = models.JSONField(default=dict)
    is_error = models.BooleanField(default=False)
    status = models.CharField(
        max_length=9, choices=Status.choices, default=Status.SUCCEEDED
    )
    llm_retries = models.PositiveIntegerField(default=0)
    used_fallback_model = models.BooleanField(default=False)
    primary_failure_reason = models.TextField(blank=True, default="")
    llm_model = models.ForeignKey(
        LLMModel, on_delete=models.PROTECT, related_name="+", null=True
    )
    fallback_llm_model = models.ForeignKey(
        LLMModel, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reporting_group = models.ForeignKey(
        ReportingGroup,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
    )
    # The API key the run was made with, whose monthly budget it counts
    # against. No index: nothing lists runs by key (ApiKeyMonthlyUsage sums
    # them), and every run would pay to keep one.
    api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    reference = models.CharField(max_length=255, blank=True, default="")
    context_id = models.CharField(max_length=255, blank=True, default="")
    # The digest of the task access token the run was made with: that token
    # reads these runs and no others (api.md §1.2). Empty for every other caller.
    access_token_hash = models.CharField(max_length=64, blank=True, default="")
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    input_processor_timing = models.FloatField(null=True)
    llm_call_timing = models.FloatField(null=True)
    # To a millionth of a credit (runs_app/credits.py): rounded only when shown.
    charged_credits = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["task", "-created", "-id"], name="run_by_task"),
            models.Index(fields=["task", "is_error", "-created"], name="run_by_status"),
            # The project's runs view and API list: newest first across tasks.
            models.Index(fields=["-created", "-id"], name="run_by_created"),
            # A task access token's run list: its own runs, newest first.
            models.Index(
                fields=["access_token_hash", "-created", "-id"],
                condition=models.Q(access_token_hash__gt=""),
                name="run_by_access_token",
            ),
            # The sweeper's search for runs not yet ended: a handful of rows,
            # however many runs there are.
            models.Index(
                fields=["created"],
                condition=models.Q(status__in=["queued", "running"]),
                name="run_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.task_id}"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class UsageSums(models.Model):
    """What a rollup row adds up: the runs of one (task, revision, reporting
    group, model) in one period, summed."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    task_revision = models.ForeignKey(
        TaskRevision, on_delete=models.CASCADE, related_name="+"
    )
    reporting_group_key = models.UUIDField(default=NO_GROUP)
    llm_model = models.ForeignKey(LLMModel, on_delete=models.PROTECT, related_name="+")
    runs = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    # The runs' exact credits summed: sixteen whole digits outlast any task.
    credits = models.DecimalField(max_digits=22, decimal_places=6, default=0)
    llm_seconds = models.FloatField(default=0)
    processor_seconds = models.FloatField(default=0)
    # Runs per LLM-latency bucket, for percentiles (runs_app/latency.py).
    llm_hist_00 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_01 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_02 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_03 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_04 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_05 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_06 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_07 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_08 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_09 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_10 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_11 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_12 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_13 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_14 = models.PositiveIntegerField(default=0, db_default=0)
    llm_hist_15 = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        abstract = True


class HourlyUsage(UsageSums):
    """Runs summed per (task, revision, reporting group, model, UTC hour).

    Written by one UPSERT in the run's own transaction; reports read only these
    rows (and DailyUsage), never the runs themselves.
    """

    hour = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "task",
                    "task_revision",
                    "reporting_group_key",
                    "llm_model",
                    "hour",
                ],
                name="hourly_usage_key",
            ),
        ]
        indexes = [models.Index(fields=["task", "hour"], name="usage_by_task_hour")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.hour:%Y-%m-%d %H}:00 × {self.runs}"


class DailyUsage(UsageSums):
    """The same sums per UTC day (`day` is its midnight, UTC).

    Kept by a second UPSERT next to the hourly one, in the same transaction as
    the run, rather than derived from the hourly rows later: a derived table
    (a materialised view, a nightly job) lags behind the runs or needs a
    refresh that rereads every hour, while one more single-row upsert per run
    costs well under a millisecond and can never disagree with the hours. A
    month read day by day is then 30 rows per key instead of 720, which is
    what keeps the long reports and the Usage page fast (runs_app/reports.py).
    """

    day = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "task",
                    "task_revision",
                    "reporting_group_key",
                    "llm_model",
                    "day",
                ],
                name="daily_usage_key",
            ),
        ]
        indexes = [models.Index(fields=["task", "day"], name="usage_by_task_day")]

    def __str__(self) -> str:
        return f"{self.task_id} {self.day:%Y-%m-%d} × {self.runs}"


class ApiKeyMonthlyUsage(models.Model):
    """Credits spent with one API key in one calendar month (UTC): the figure
    its monthly budget is held to, read as one row before each run.

    Kept by an UPSERT in the run's transaction beside the hourly and daily
    rows (runs_app/services.py `usage_add`), like them never derived later.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    month = models.DateTimeField()  # midnight UTC of the month's first day
    runs = models.PositiveIntegerField(default=0)
    credits = models.DecimalField(max_digits=22, decimal_places=6, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "month"], name="api_key_monthly_usage_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id} {self.month:%Y-%m}: {self.credits} credits"


class RunFile(models.Model):
    """A file submitted with a run (or, later, generated by one).

    The bytes live in the default storage under `storage_key`; the download
    URL is computed when a run is serialised, never stored.
    """

    class Direction(models.TextChoices):
        INPUT = "input", "Input"
        OUTPUT = "output", "Output"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    task_run = models.ForeignKey(
        TaskRun, on_delete=models.CASCADE, related_name="files"
    )
    direction = models.CharField(max_length=6, choices=Direction.choices)
    original_filename = models.CharField(max_length=255)
    stored_filename = models.CharField(max_length=100)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveIntegerField()
    storage_key = models.CharField(max_length=255)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task_run", "stored_filename"], name="run_file_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.original_filename
