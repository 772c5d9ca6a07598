from __future__ import annotations

from django.urls import path

from tasks_app import assistant_views, member_views, tag_views, views

TASK = "projects/<uuid:project_id>/tasks/<uuid:task_id>"

urlpatterns = [
    path("projects/<uuid:project_id>/", views.project_home, name="project_home"),
    path("projects/<uuid:project_id>/tasks/new", views.task_create, name="task_create"),
    path(
        "projects/<uuid:project_id>/templates", views.task_gallery, name="task_gallery"
    ),
    path(TASK + "/edit", views.task_edit, name="task_edit"),
    path(TASK + "/revisions", views.task_revisions, name="task_revisions"),
    path(TASK + "/revisions/diff", views.revision_diff, name="revision_diff"),
    path(TASK + "/traffic", views.task_traffic, name="task_traffic"),
    path(
        "projects/<uuid:project_id>/assistant/<slug:helper>",
        assistant_views.assistant_suggest,
        name="assistant",
    ),
    path(
        TASK + "/assistant/<slug:helper>",
        assistant_views.assistant_suggest,
        name="task_assistant",
    ),
    path(TASK + "/tags", tag_views.task_tags, name="task_tags"),
    path(TASK + "/members", member_views.task_members, name="task_members"),
    path(
        TASK + "/members/<str:member>",
        member_views.task_member_update,
        name="task_member_update",
    ),
]
