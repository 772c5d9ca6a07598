from __future__ import annotations

from django.urls import path

from tasks_app import views

urlpatterns = [
    path("projects/<uuid:project_id>/", views.project_home, name="project_home"),
]
