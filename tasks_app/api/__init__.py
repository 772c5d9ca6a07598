"""The tasks app's JSON API: tasks, tags, task IAM, forwarders and the assistant
on one router."""

from __future__ import annotations

from ninja import Router

from tasks_app.api.assistant import router as assistant_router
from tasks_app.api.forwarders import router as forwarders_router
from tasks_app.api.iam import router as iam_router
from tasks_app.api.tags import router as tags_router
from tasks_app.api.tasks import router as tasks_router

router = Router()
# Tag routes first: `/task/tag` must not be read as the task with id "tag".
router.add_router("", tags_router)
router.add_router("", tasks_router)
router.add_router("", iam_router)
router.add_router("", forwarders_router)
router.add_router("", assistant_router)

__all__ = ["router"]
