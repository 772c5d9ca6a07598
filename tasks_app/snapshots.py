"""Cached task representations, so reading a task costs a few queries, not ten.

A task's API representation (its revisions, models, tags and traffic split) is
the same for every caller except the access token, and it changes only when:

- the task is updated: every write to a task's revisions, tags or traffic goes
  through `tasks_app.services.task_update`, which moves `Task.modified`;
- a tag of the project is renamed or deleted: the project's tag version moves;
- the model catalogue changes (models, their comments): the catalogue version
  moves.

The cache key holds all three, so a stale entry is never read again; it simply
ages out. Versions move at the change and again after the commit, and an entry is always
built after its key's parts were read, so a racing reader can only store
something newer than its key, never older.

When the cache is unreachable, snapshots are built from the database and not
stored. A version move that could not be written then would leave the old
entries readable once Redis is back, so the key also holds the cache
generation, which the process that missed the write moves before it uses the
cache again (rightbrain/cache_safe.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from django.db import transaction

from rightbrain import cache_safe
from rightbrain.cache_safe import GENERATION_KEY
from tasks_app.models import Task

SNAPSHOT_SECONDS = 3600
_CATALOGUE = "rb:catalogue-version"


def _tags_key(project_id: UUID) -> str:
    return f"rb:tags-version:{project_id}"


def _versions(keys: list[str]) -> list[str] | None:
    """The current value of each version key, created when missing; None when
    the cache is unreachable (then nothing is read from it or stored in it)."""
    found = cache_safe.get_many(keys)
    for key in keys:
        if key not in found:
            # `add` so that two first readers agree on one version.
            cache_safe.add(key, uuid.uuid4().hex, None)
            found[key] = cache_safe.get(key)
            if found[key] is None:
                return None
    return [str(found[key]) for key in keys]


def _bump(key: str) -> None:
    # Now, for reads inside this transaction, and again after the commit: a
    # reader between the two may have cached the old rows under the first
    # new version.
    cache_safe.set(key, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache_safe.set(key, uuid.uuid4().hex, None))


def tags_changed(project_id: UUID) -> None:
    _bump(_tags_key(project_id))


def catalogue_changed() -> None:
    _bump(_CATALOGUE)


def task_snapshots(
    tasks: Iterable[Task],
    *,
    variant: str,
    build: Callable[[list[UUID]], dict[UUID, dict[str, Any]]],
) -> dict[UUID, dict[str, Any]]:
    """The snapshot of each task, building (and caching) the missing ones.

    `variant` names what else shapes the snapshot (test revisions shown, the
    revision tag filtered on); `build` makes snapshots for the given task ids.
    """
    tasks = list(tasks)
    if not tasks:
        return {}
    versions = _versions([_tags_key(tasks[0].project_id), _CATALOGUE, GENERATION_KEY])
    if versions is None:
        return build([task.pk for task in tasks])
    keys = {
        task.pk: f"rb:task:{task.pk}:{task.modified.timestamp()}:{variant}:"
        + ":".join(versions)
        for task in tasks
    }
    found = cache_safe.get_many(keys.values())
    result = {task_id: found[key] for task_id, key in keys.items() if key in found}
    missing = [task_id for task_id in keys if task_id not in result]
    if missing:
        built = build(missing)
        cache_safe.set_many(
            {keys[task_id]: built[task_id] for task_id in missing}, SNAPSHOT_SECONDS
        )
        result.update(built)
    return result


def _on_tag_change(sender, instance, **kwargs) -> None:
    tags_changed(instance.project_id)


def _on_catalogue_change(sender, **kwargs) -> None:
    catalogue_changed()


def watch_for_changes() -> None:
    """Move the versions whenever a tag or catalogue row is saved or deleted,
    whoever writes it (services, the admin, management commands)."""
    from django.db.models.signals import post_delete, post_save

    from tasks_app.models import LLMModel, LLMModelComment, Tag

    for signal in (post_save, post_delete):
        signal.connect(_on_tag_change, sender=Tag, dispatch_uid=f"snap-tag-{signal}")
        for model in (LLMModel, LLMModelComment):
            signal.connect(
                _on_catalogue_change,
                sender=model,
                dispatch_uid=f"snap-{model.__name__}-{signal}",
            )


def task_cached(task: Task, name: str, build: Callable[[], Any]) -> Any:
    """A value derived from the task and the catalogue only (say, its active
    revisions with their models), cached under the same versioning."""
    versions = _versions([_CATALOGUE, GENERATION_KEY])
    if versions is None:
        return build()
    key = f"rb:{name}:{task.pk}:{task.modified.timestamp()}:" + ":".join(versions)
    value = cache_safe.get(key)
    if value is None:
        value = build()
        cache_safe.set(key, value, SNAPSHOT_SECONDS)
    return value
