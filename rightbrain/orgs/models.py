from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, AbstractGrant

from rightbrain.ids import uuid7
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.tokens import hash_token


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person. The e-mail address is the login; there is no username."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)
    name = models.CharField(max_length=150, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()  # type: ignore[assignment, misc]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.display_name


class Organization(models.Model):
    """The top-level tenant: people belong to it through a Membership."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=100)
    # The organisation made for a person at sign-up; shown first in the switcher.
    personal = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def limit_constraints(prefix: str) -> list[models.BaseConstraint]:
    """A set rate limit is at least one a minute, a budget never negative."""
    return [
        models.CheckConstraint(
            condition=models.Q(requests_per_minute__isnull=True)
            | models.Q(requests_per_minute__gte=1),
            name=f"{prefix}_requests_per_minute_positive",
        ),
        models.CheckConstraint(
            condition=models.Q(runs_per_minute__isnull=True)
            | models.Q(runs_per_minute__gte=1),
            name=f"{prefix}_runs_per_minute_positive",
        ),
        models.CheckConstraint(
            condition=models.Q(monthly_credit_budget__isnull=True)
            | models.Q(monthly_credit_budget__gte=0),
            name=f"{prefix}_monthly_credit_budget_not_negative",
        ),
    ]


class Project(models.Model):
    """A workspace inside an organisation. Tasks, tags and credentials live here."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=100)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Ceilings across all of the project's credentials (rightbrain/orgs/limits.py);
    # null: the RB_PROJECT_* setting.
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    runs_per_minute = models.PositiveIntegerField(null=True, blank=True)
    # Credits the project may spend per calendar month (UTC); null: no budget.
    monthly_credit_budget = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    modified = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "organization",
                Lower("name"),
                condition=models.Q(archived_at__isnull=True),
                name="project_name_unique_per_org",
            ),
            *limit_constraints("project"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Membership(models.Model):
    """A person's role in an organisation; it applies to all of its projects."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="membership_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} ({self.role})"


class Invitation(models.Model):
    """An e-mailed invitation to join an organisation with a role.

    The token travels only in the e-mail; the database keeps its SHA-256.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=10, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["organization", "email"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization} ({self.role})"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class ApiKey(models.Model):
    """A long-lived secret that acts as its creator, limited to one project.

    Only a digest and the first characters (to tell keys apart) are stored.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="api_keys"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # This key's own ceilings; null: the RB_API_* setting.
    requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    runs_per_minute = models.PositiveIntegerField(null=True, blank=True)
    # Credits runs made with this key may spend per calendar month (UTC);
    # null: no budget of its own (the project's still applies).
    monthly_credit_budget = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [*limit_constraints("api_key")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class OAuthClient(AbstractApplication):
    """An OAuth 2.0 client of one project: django-oauth-toolkit's application.

    DOT's columns keep their meaning. `client_type` is DOT's confidential/public
    (the API's `public_client`); `user` is the person who created the client;
    `updated` is the API's `modified`; `redirect_uris` stays DOT's space-separated
    text (URIs never contain spaces). What DOT lacks is added: the project, a
    description, a list of grant types (DOT has one), and `acts_as` — the API's
    `client_type` of user or project, renamed because DOT owns that name.
    """

    class ActsAs(models.TextChoices):
        USER = "user", "User (acts as its creator)"
        PROJECT = "project", "Project (service account)"

    class GrantType(models.TextChoices):
        CLIENT_CREDENTIALS = "client_credentials", "Client credentials"
        AUTHORIZATION_CODE = "authorization_code", "Authorization code"
        REFRESH_TOKEN = "refresh_token", "Refresh token"
        IMPLICIT = "implicit", "Implicit (legacy)"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No reverse accessors: clients are always read through their project's
    # queries (selectors.py), and DOT's untyped base hides them from mypy.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="created by",
    )
    description = models.TextField(blank=True)
    grant_types = models.JSONField(default=list)
    acts_as = models.CharField(
        max_length=7, choices=ActsAs.choices, default=ActsAs.USER
    )
    # `grant_types` replaces DOT's single grant type.
    authorization_grant_type = None

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = "OAuth client"

    def __str__(self) -> str:
        return self.name or self.client_id

    @property
    def redirect_uri_list(self) -> list[str]:
        return self.redirect_uris.split()

    @property
    def public_client(self) -> bool:
        return self.client_type == self.CLIENT_PUBLIC

    @property
    def modified(self) -> datetime:
        return self.updated

    def allows_grant_type(self, *grant_types: str) -> bool:
        """DOT asks with its own grant names; answer from our list."""
        return any(
            _DOT_GRANT_TYPES.get(grant_type) in self.grant_types
            for grant_type in grant_types
        )

    def redirect_uri_allowed(self, uri: str) -> bool:
        # Exact string match (api.md §12.1), stricter than DOT's loopback rules.
        return uri in self.redirect_uri_list

    def get_allowed_schemes(self) -> list[str]:
        # The schemes this client registered, each checked at registration.
        return sorted({urlsplit(uri).scheme.lower() for uri in self.redirect_uri_list})


# DOT's grant names → ours. DOT's other grants (password, device code, hybrid)
# map to nothing, so no client allows them.
_DOT_GRANT_TYPES = {
    OAuthClient.GRANT_AUTHORIZATION_CODE: "authorization_code",
    OAuthClient.GRANT_CLIENT_CREDENTIALS: "client_credentials",
    OAuthClient.GRANT_IMPLICIT: "implicit",
}


class _Digest(str):
    """A value read back from a digest column: hashed already."""


class SecretDigestField(models.CharField):
    """Stores the SHA-256 of the secret it is given and hashes every value it
    is compared with, so the secret is never stored while lookups by it (DOT's
    `Grant.objects.get(code=code)`, wherever DOT makes them) keep working.

    Values read from the column are digests and are not hashed again; anything
    else (what a client sends, what DOT creates) always is, so a stolen digest
    is no use as a code.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value, expression, connection):
        return None if value is None else _Digest(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or isinstance(value, _Digest):
            return value
        return hash_token(value)


class OAuthGrant(AbstractGrant):
    """An authorization code waiting to be exchanged: DOT's grant (swapped in
    by OAUTH2_PROVIDER_GRANT_MODEL) with the code stored as a digest."""

    code = SecretDigestField(unique=True, verbose_name="code digest")
    # No reverse accessor: codes are read by digest only, by DOT.
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    class Meta(AbstractGrant.Meta):
        verbose_name = "OAuth authorization code"


class OAuthCodeRedemption(models.Model):
    """An authorization code that was exchanged, and the tokens it bought.

    A code is good once (RFC 6749 §4.1.2, api.md §12.3): presenting it again
    is refused and revokes these tokens, the refresh token's whole rotated
    family included. Kept while any of them lives (rightbrain/orgs/oauth_codes.py).
    """

    code = SecretDigestField(unique=True, verbose_name="code digest")
    application = models.ForeignKey(
        OAuthClient, on_delete=models.CASCADE, related_name="+"
    )
    # DOT stores tokens by the same SHA-256 (AccessToken.token_checksum).
    access_token_checksum = models.CharField(max_length=64)
    refresh_token_family = models.UUIDField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return (
            f"code redeemed by {self.application_id} at {self.created:%Y-%m-%d %H:%M}"
        )


class AuditEvent(models.Model):
    """One change that matters to an organisation's security, written by the
    service that made it, in the same transaction: who, what, on which object,
    when. Events have no update path; they go only with their organisation.

    The actor and target are also kept as text, so the record still reads when
    the person or the object is gone.
    """

    class Action(models.TextChoices):
        TASK_CREATED = "task.created", "Task created"
        TASK_EDITED = "task.edited", "Task edited"
        TASK_DELETED = "task.deleted", "Task deleted"
        TASK_TRAFFIC_CHANGED = "task.traffic_changed", "Traffic re-weighted"
        TASK_GRANT_CHANGED = "task.grant_changed", "Task access changed"
        MEMBER_ADDED = "member.added", "Member added"
        MEMBER_ROLE_CHANGED = "member.role_changed", "Member role changed"
        MEMBER_REMOVED = "member.removed", "Member removed"
        MEMBER_LEFT = "member.left", "Member left"
        API_KEY_CREATED = "api_key.created", "API key created"
        API_KEY_REVOKED = "api_key.revoked", "API key revoked"
        OAUTH_CLIENT_CREATED = "oauth_client.created", "OAuth client created"
        OAUTH_CLIENT_SECRET_REGENERATED = (
            "oauth_client.secret_regenerated",
            "OAuth client secret regenerated",
        )
        OAUTH_CLIENT_DELETED = "oauth_client.deleted", "OAuth client deleted"
        SHARE_CREATED = "share.created", "Share created"
        SHARE_REVOKED = "share.revoked", "Share revoked"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="audit_events"
    )
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The actor's e-mail address when the event was written, or what acted
    # without a person (e.g. "system").
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=64, choices=Action.choices)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [
            # The console page and the API list: newest first, per organisation,
            # optionally of one action.
            models.Index(
                fields=["organization", "-created", "-id"], name="audit_by_org"
            ),
            models.Index(
                fields=["organization", "action", "-created", "-id"],
                name="audit_by_org_action",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.target_label}"
