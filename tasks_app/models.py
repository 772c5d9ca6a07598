from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from rightbrain.ids import uuid7
from rightbrain.orgs.models import Project
from rightbrain.orgs.permissions import TaskRole


class LLMModel(models.Model):
    """A catalogue entry: how to reach a model through litellm, and what it costs.

    Instance-wide. `litellm_model` (plus `api_base` for OpenAI-compatible servers
    such as Ollama, vLLM or llama.cpp) is what the gateway calls; provider keys
    come from the environment variable named by `api_key_env`.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    provider = models.CharField(max_length=50, help_text="Maker, e.g. OpenAI")
    vendor = models.CharField(max_length=50, help_text="Host, e.g. Azure or Groq")
    name = models.CharField(max_length=100, help_text="API reference name")
    alias = models.CharField(max_length=100, help_text="Display name")
    description = models.TextField(blank=True)
    litellm_model = models.CharField(max_length=200)
    api_base = models.URLField(blank=True)
    api_key_env = models.CharField(
        max_length=100, blank=True, help_text="Environment variable with the key"
    )
    supports_vision = models.BooleanField(default=False)
    supports_image_output = models.BooleanField(default=False)
    supports_audio_output = models.BooleanField(default=False)
    max_context_window = models.PositiveIntegerField(default=8192)
    model_params = models.JSONField(null=True, blank=True)
    # US dollars per million tokens; null = unknown (runs then charge null credits).
    input_price_per_mtok = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True
    )
    output_price_per_mtok = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True
    )
    enabled = models.BooleanField(default=True)
    retired = models.DateTimeField(null=True, blank=True)
    replaced_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider", "alias"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "name"], name="llm_model_unique"),
        ]

    def __str__(self) -> str:
        return self.alias

    @property
    def is_retired(self) -> bool:
        return self.retired is not None


class LLMModelComment(models.Model):
    """A note shown beside a model in the picker (deprecations, quirks)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    llm_model = models.ForeignKey(
        LLMModel, on_delete=models.CASCADE, related_name="comments"
    )
    title = models.CharField(max_length=200)
    description = models.TextField()
    active = models.BooleanField(default=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created"]

    def __str__(self) -> str:
        return self.title


class Tag(models.Model):
    class EntityType(models.TextChoices):
        TASK = "task", "Task"
        TASK_REVISION = "task_revision", "Task revision"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=15)
    entity_type = models.CharField(max_length=20, choices=EntityType.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    is_project_tag = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Siblings have distinct names; roots (no parent) count as siblings.
            models.UniqueConstraint(
                "project",
                "entity_type",
                Coalesce(
                    "parent",
                    models.Value("00000000-0000-0000-0000-000000000000"),
                    output_field=models.UUIDField(),
                ),
                "name",
                name="tag_name_unique_among_siblings",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    class OutputModality(models.TextChoices):
        JSON = "json", "JSON"
        IMAGE = "image", "Image"
        AUDIO = "audio", "Audio"
        PDF = "pdf", "PDF"
        TEXT = "text", "Text"
        CSV = "csv", "CSV"

    class RunVisibility(models.TextChoices):
        OWNER_ONLY = "owner_only", "Owners only"
        EDITORS_AND_OWNERS = "editors_and_owners", "Editors and owners"
        ALL_VIEWERS = "all_viewers", "Everyone who can view"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    public = models.BooleanField(default=False)
    exposed_to_agents = models.BooleanField(default=False)
    mcp_enabled = models.BooleanField(default=False)
    output_modality = models.CharField(
        max_length=10, choices=OutputModality.choices, default=OutputModality.JSON
    )
    task_run_visibility = models.CharField(
        max_length=20, choices=RunVisibility.choices, default=RunVisibility.OWNER_ONLY
    )
    # The task's own bearer token: re-displayable to editors, so it is kept
    # encrypted (see tokens.py), and found by its digest.
    access_token_encrypted = models.TextField()
    access_token_hash = models.CharField(max_length=64, unique=True)
    # Only the id: the source may be deleted later and the link must survive.
    cloned_from_task_revision_id = models.UUIDField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tasks")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(default=timezone.now)
    deleted = models.DateTimeField(null=True, blank=True)
    # Stamped by the run engine so the task list shows it without a join.
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(
                fields=["project", "-created", "-id"],
                condition=models.Q(deleted__isnull=True),
                name="task_live_by_project",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TaskForwarder(models.Model):
    """Where the runs of revisions that name it are POSTed (api.md §8).

    `config` is shown to project members; `config_sensitive` (the signing key)
    is write-only: kept encrypted because the delivery worker must read it
    back, never returned by the API.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="task_forwarders"
    )
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    config = models.JSONField(default=dict, blank=True)
    # Fernet token of the JSON object (see tokens.py); empty when there is none.
    config_sensitive_encrypted = models.TextField(blank=True, default="")
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(
                fields=["project", "-created", "-id"], name="forwarder_by_project"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_sensitive_config(self) -> bool:
        return bool(self.config_sensitive_encrypted)

    @property
    def destination_url(self) -> str:
        return str((self.config or {}).get("destination_url") or "")


class TaskRevision(models.Model):
    """An immutable snapshot of how a task runs. There is no update path."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="revisions")
    system_prompt = models.TextField(blank=True)
    user_prompt = models.TextField()
    input_params = models.JSONField(default=list)
    input_param_descriptions = models.JSONField(default=dict, blank=True)
    llm_model = models.ForeignKey(LLMModel, on_delete=models.PROTECT, related_name="+")
    llm_config = models.JSONField(default=dict, blank=True)
    fallback_llm_model = models.ForeignKey(
        LLMModel, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fallback_llm_config = models.JSONField(null=True, blank=True)
    output_format = models.JSONField(null=True, blank=True)
    rag = models.JSONField(null=True, blank=True)
    # Set when the revision is made, like every other field. RESTRICT rather
    # than PROTECT: a forwarder in use cannot be deleted on its own, yet a
    # project that goes takes its tasks and forwarders together.
    task_forwarder = models.ForeignKey(
        TaskForwarder,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="revisions",
    )
    image_required = models.BooleanField(default=False)
    optimise_images = models.BooleanField(default=True)
    test = models.BooleanField(default=False)
    input_processors = models.JSONField(default=list, blank=True)
    annotation = models.TextField(blank=True, default="")
    tags = models.ManyToManyField(Tag, blank=True, related_name="task_revisions")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    # Changes only when the revision's tags change.
    modified = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.task} @ {self.created:%Y-%m-%d %H:%M}"


class ActiveRevision(models.Model):
    """One entry of a task's traffic split: the revision and its share of runs."""

    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="active_revision_entries"
    )
    task_revision = models.ForeignKey(
        TaskRevision, on_delete=models.CASCADE, related_name="+"
    )
    weight = models.DecimalField(max_digits=7, decimal_places=6, default=1)

    class Meta:
        ordering = ["-weight", "task_revision_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "task_revision"], name="active_revision_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(weight__gte=0, weight__lte=1),
                name="active_revision_weight_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_revision_id} × {self.weight}"


class TaskMember(models.Model):
    """A direct grant of a task role to a user, an organisation or a project."""

    class SubjectType(models.TextChoices):
        USER = "user", "User"
        ORGANIZATION = "organization", "Organisation"
        PROJECT = "project", "Project"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="members")
    subject_type = models.CharField(max_length=20, choices=SubjectType.choices)
    subject_id = models.UUIDField()
    role = models.CharField(max_length=10, choices=TaskRole.choices)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["task", "subject_type", "subject_id"], name="task_member_unique"
            ),
        ]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.subject_type}:{self.subject_id} {self.role} on {self.task_id}"

    @property
    def member(self) -> str:
        return f"{self.subject_type}:{self.subject_id}"


class ForwarderDelivery(models.Model):
    """One attempt to deliver a run to a forwarder: the delivery audit.

    The attempts of one delivery share `delivery_id`, which receivers get as
    the idempotency key. The run is referenced by id only: runs live in
    runs_app, above this app; the task link removes the rows with the task.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    delivery_id = models.UUIDField()
    forwarder = models.ForeignKey(
        TaskForwarder, on_delete=models.CASCADE, related_name="deliveries"
    )
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="forwarder_deliveries"
    )
    task_run_id = models.UUIDField()
    attempt = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery_id", "attempt"], name="forwarder_delivery_attempt"
            ),
        ]
        indexes = [
            models.Index(fields=["task_run_id", "created"], name="delivery_by_run")
        ]

    def __str__(self) -> str:
        return f"{self.task_run_id} → {self.forwarder_id} #{self.attempt}"
