from __future__ import annotations

from django.urls import path

from rightbrain.orgs import credentials_views, views

API_CLIENTS = "projects/<uuid:project_id>/api-clients"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("orgs/new", views.organization_create, name="organization_create"),
    path("settings/", views.account_settings, name="account_settings"),
    path(
        "orgs/<uuid:org_id>/leave", views.organization_leave, name="organization_leave"
    ),
    path("orgs/<uuid:org_id>/members", views.console_members, name="console_members"),
    path("orgs/<uuid:org_id>/audit", views.console_audit, name="console_audit"),
    path(
        "orgs/<uuid:org_id>/members/invite", views.console_invite, name="console_invite"
    ),
    path(
        "orgs/<uuid:org_id>/members/<uuid:membership_id>/role",
        views.console_member_role,
        name="console_member_role",
    ),
    path(
        "orgs/<uuid:org_id>/members/<uuid:membership_id>/remove",
        views.console_member_remove,
        name="console_member_remove",
    ),
    path(
        "orgs/<uuid:org_id>/invitations/<uuid:invitation_id>/revoke",
        views.console_invitation_revoke,
        name="console_invitation_revoke",
    ),
    path(
        "orgs/<uuid:org_id>/projects", views.console_projects, name="console_projects"
    ),
    path(
        "orgs/<uuid:org_id>/projects/new",
        views.console_project_create,
        name="console_project_create",
    ),
    path(
        "orgs/<uuid:org_id>/projects/<uuid:project_id>/rename",
        views.console_project_rename,
        name="console_project_rename",
    ),
    path(
        "orgs/<uuid:org_id>/projects/<uuid:project_id>/archive",
        views.console_project_archive,
        name="console_project_archive",
    ),
    path(
        "orgs/<uuid:org_id>/projects/<uuid:project_id>/limits",
        views.console_project_limits,
        name="console_project_limits",
    ),
    path(
        "orgs/<uuid:org_id>/projects/<uuid:project_id>/restore",
        views.console_project_restore,
        name="console_project_restore",
    ),
    path("invitations/<str:token>", views.invitation_accept, name="invitation_accept"),
    # Settings → API clients (dashboard.md §8)
    path("preferences", credentials_views.preferences, name="preferences"),
    path(API_CLIENTS, credentials_views.api_clients, name="api_clients"),
    path(
        API_CLIENTS + "/keys/new",
        credentials_views.api_key_create,
        name="api_key_create",
    ),
    path(
        API_CLIENTS + "/keys/<uuid:key_id>/revoke",
        credentials_views.api_key_revoke,
        name="api_key_revoke",
    ),
    path(
        API_CLIENTS + "/keys/<uuid:key_id>/limits",
        credentials_views.api_key_limits,
        name="api_key_limits",
    ),
    path(
        API_CLIENTS + "/oauth/new",
        credentials_views.oauth_client_create,
        name="oauth_client_create",
    ),
    path(
        API_CLIENTS + "/oauth/<uuid:client_id>/edit",
        credentials_views.oauth_client_edit,
        name="oauth_client_edit",
    ),
    path(
        API_CLIENTS + "/oauth/<uuid:client_id>/secret",
        credentials_views.oauth_client_regenerate_secret,
        name="oauth_client_regenerate_secret",
    ),
    path(
        API_CLIENTS + "/oauth/<uuid:client_id>/delete",
        credentials_views.oauth_client_delete,
        name="oauth_client_delete",
    ),
]
