from __future__ import annotations

from django.urls import path

from sharing import views

TASK = "projects/<uuid:project_id>/tasks/<uuid:task_id>/shares"

urlpatterns = [
    path(
        "projects/<uuid:project_id>/shares", views.project_shares, name="project_shares"
    ),
    path(
        "projects/<uuid:project_id>/shares/task",
        views.project_share_task,
        name="project_share_task",
    ),
    path(TASK, views.task_shares, name="task_shares"),
    path(f"{TASK}/new", views.task_share_create, name="task_share_create"),
    path(
        f"{TASK}/<uuid:share_id>/revoke",
        views.task_share_revoke,
        name="task_share_revoke",
    ),
    # The public side: no login (except to clone).
    path("s/<str:short_id>", views.public_share, name="share_public"),
    path("s/<str:short_id>/run", views.public_share_run, name="share_run"),
    path(
        "s/<str:short_id>/run/<str:token>",
        views.public_share_run_result,
        name="share_run_result",
    ),
    path("s/<str:short_id>/clone", views.share_clone, name="share_clone"),
    path(
        "s/<str:short_id>/files/<uuid:task_run_id>/<str:stored_filename>",
        views.share_file,
        name="share_file",
    ),
]
