from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from rightbrain.ids import uuid7
from runs_app.models import TaskRun
from tasks_app.models import Task, TaskRevision


class TaskShare(models.Model):
    """A public link to one frozen revision of a task (domain.md §11).

    `views_count` and `use_count` change only through UPDATE statements that
    add in the database (services.py), never by saving a read value back, so
    concurrent visitors cannot lose each other's counts; the check constraint
    keeps `use_count` within `max_uses` whatever a writer does.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="shares")
    task_revision = models.ForeignKey(
        TaskRevision, on_delete=models.CASCADE, related_name="shares"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Custom: 3–5 letters or digits; generated: 8. Case-sensitive in the URL,
    # unique regardless of case so two links never differ only by it.
    short_id = models.CharField(max_length=8)
    title = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    task_run = models.ForeignKey(
        TaskRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The example run shown on the share page",
    )
    active = models.BooleanField(default=True)
    views_count = models.PositiveIntegerField(default=0)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)
    allow_inputs = models.BooleanField(default=False)
    show_output = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("short_id"), name="share_short_id_unique"),
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True) | models.Q(max_uses__gte=1),
                name="share_max_uses_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(max_uses__isnull=True)
                | models.Q(use_count__lte=models.F("max_uses")),
                name="share_uses_within_max",
            ),
        ]
        indexes = [
            models.Index(fields=["short_id"], name="share_by_short_id"),
            models.Index(fields=["task", "-created", "-id"], name="share_by_task"),
        ]

    def __str__(self) -> str:
        return f"/s/{self.short_id}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_used_up(self) -> bool:
        return self.max_uses is not None and self.use_count >= self.max_uses

    @property
    def uses_left(self) -> int | None:
        if self.max_uses is None:
            return None
        return max(self.max_uses - self.use_count, 0)

    @property
    def status(self) -> str:
        """active, revoked, expired or used up, for lists and badges."""
        if not self.active:
            return "revoked"
        if self.is_expired:
            return "expired"
        if self.is_used_up:
            return "used up"
        return "active"

    @property
    def path(self) -> str:
        return f"/s/{self.short_id}"

    @property
    def url(self) -> str:
        return f"{settings.SITE_ROOT}/s/{self.short_id}"


class ShareRun(models.Model):
    """Marks a run as made through a share link.

    The link lives here, in the app above runs_app, so runs never depend on
    sharing (ARCHITECTURE.md: links between two apps' objects belong to the
    higher app).
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    share = models.ForeignKey(TaskShare, on_delete=models.CASCADE, related_name="runs")
    task_run = models.OneToOneField(
        TaskRun, on_delete=models.CASCADE, related_name="share_link"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["share", "-created"], name="share_run_by_share"),
        ]

    def __str__(self) -> str:
        return f"{self.task_run_id} via {self.share_id}"
