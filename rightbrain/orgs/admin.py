from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError

from rightbrain.orgs.models import (
    ApiKey,
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    Project,
    User,
)
from rightbrain.orgs.services import api_key_revoke, membership_remove


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    # Removing someone revokes their credentials: that goes through the
    # Membership admin's delete, which calls membership_remove.
    can_delete = False
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created"]
    readonly_fields = ["created"]


class ProjectInline(admin.TabularInline):
    model = Project
    extra = 0
    fields = ["name", "archived_at", "created"]
    readonly_fields = ["created"]
    show_change_link = True


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "name",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "name", "id"]
    readonly_fields = ["id", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["id", "email", "name", "password"]}),
        (
            "Permissions",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups"]},
        ),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})
    ]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "personal", "member_count", "created"]
    list_filter = ["personal"]
    search_fields = ["name", "id", "memberships__user__email"]
    readonly_fields = ["id", "created", "modified"]
    inlines = [MembershipInline, ProjectInline]
    date_hierarchy = "created"

    @admin.display(description="Members")
    def member_count(self, obj: Organization) -> int:
        return obj.memberships.count()


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "archived_at", "created"]
    list_filter = [("archived_at", admin.EmptyFieldListFilter)]
    list_select_related = ["organization"]
    search_fields = ["name", "id", "organization__name"]
    readonly_fields = ["id", "created", "modified"]
    autocomplete_fields = ["organization"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created"]
    list_filter = ["role"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]

    # Deleting here removes the member as the console does: their API keys and
    # OAuth tokens for the organisation are revoked and their task grants
    # dropped, audited, or nothing happens (the last owner stays).
    def delete_model(self, request, obj: Membership) -> None:
        self._remove(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset.select_related("user"):
            self._remove(request, membership)

    def _remove(self, request, membership: Membership) -> None:
        try:
            membership_remove(membership=membership, actor=request.user)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "created", "expires_at", "status"]
    list_filter = ["role"]
    list_select_related = ["organization"]
    search_fields = ["email", "organization__name"]
    readonly_fields = ["token_hash", "accepted_at", "accepted_by", "created"]

    @admin.display(description="Status")
    def status(self, obj: Invitation) -> str:
        if obj.accepted_at:
            return "accepted"
        if obj.revoked_at:
            return "withdrawn"
        return "pending" if obj.is_pending else "expired"


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created where they can be shown once: the dashboard, the API or
    `manage.py create_api_key`. Here they can be inspected and revoked."""

    list_display = [
        "name",
        "prefix",
        "user",
        "project",
        "created",
        "last_used",
        "active",
    ]
    list_select_related = ["user", "project"]
    search_fields = ["name", "prefix", "user__email", "project__name"]
    fields = readonly_fields = (
        "name",
        "prefix",
        "user",
        "project",
        "created",
        "last_used",
        "revoked_at",
    )
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(boolean=True)
    def active(self, obj: ApiKey) -> bool:
        return obj.revoked_at is None

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset) -> None:
        for api_key in queryset.select_related("project"):
            api_key_revoke(api_key=api_key, actor=request.user)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read only: events are written by the services that make the changes."""

    list_display = ["created", "organization", "actor_label", "action", "target_label"]
    list_filter = ["action"]
    list_select_related = ["organization"]
    search_fields = ["actor_label", "target_label", "target_id", "organization__name"]
    date_hierarchy = "created"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class OAuthClientAdmin(admin.ModelAdmin):
    """django-oauth-toolkit registers this (its APPLICATION_ADMIN_CLASS setting).

    Read-only: clients are created and changed through the dashboard or the API,
    which validate them and show secrets once. Deleting one revokes its tokens.
    """

    list_display = ["name", "project", "acts_as", "client_type", "user", "created"]
    list_filter = ["acts_as", "client_type"]
    list_select_related = ["project", "user"]
    search_fields = ["name", "client_id", "project__name", "user__email"]
    fields = [
        "id",
        "name",
        "description",
        "project",
        "user",
        "acts_as",
        "client_type",
        "client_id",
        "grant_types",
        "redirect_uris",
        "created",
        "updated",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
