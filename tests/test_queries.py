"""Precompiled queries: compiled once, run with each call's values, rows built
as the queryset would build them."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from django.db.models import OuterRef, Q, Subquery

from rightbrain.orgs.models import Membership, Project
from rightbrain.queries import Precompiled

PROJECT_WITH_OWNER_ROLE = Precompiled(
    lambda project_id, user_id: (
        Project.objects.select_related("organization")
        .annotate(
            caller_role=Subquery(
                Membership.objects.filter(
                    organization_id=OuterRef("organization_id"), user_id=user_id
                ).values("role")[:1]
            )
        )
        .filter(pk=project_id)[:1]
    ),
    "project_id",
    "user_id",
)


def test_rows_are_the_querysets_rows_with_related_objects_and_annotations(
    personas, django_assert_num_queries
):
    with django_assert_num_queries(1):  # the project, its organisation, the role
        project = PROJECT_WITH_OWNER_ROLE.one_or_none(
            project_id=personas.project.pk, user_id=personas.editor.pk
        )
        assert project == personas.project
        assert project.organization.name == "Acme"
        assert project.caller_role == "editor"


def test_each_call_runs_with_its_own_values(personas):
    mine = PROJECT_WITH_OWNER_ROLE.one_or_none(
        project_id=personas.other_project.pk, user_id=personas.outsider.pk
    )
    assert mine == personas.other_project
    assert mine.caller_role == "owner"
    # Values may come as text, as from a URL or a grant row.
    theirs = PROJECT_WITH_OWNER_ROLE.one_or_none(
        project_id=str(personas.project.pk), user_id=str(personas.outsider.pk)
    )
    assert theirs == personas.project
    assert theirs.caller_role is None
    assert (
        PROJECT_WITH_OWNER_ROLE.one_or_none(
            project_id=uuid.uuid4(), user_id=personas.owner.pk
        )
        is None
    )


def test_a_text_value_and_several_rows(personas):
    named = Precompiled(
        lambda name: Membership.objects.filter(
            Q(organization__name=name) | Q(organization__name="Elsewhere")
        ).order_by("role"),
        "name",
    )
    assert [m.role for m in named.rows(name="Acme")] == [
        "admin",
        "editor",
        "owner",
        "owner",
        "viewer",
    ]
    assert [m.role for m in named.rows(name="Nobody")] == ["owner"]


def test_threads_share_the_compiled_query(personas, transactional_db):
    found: list[object] = []

    def look_up() -> None:
        try:
            found.append(
                PROJECT_WITH_OWNER_ROLE.one_or_none(
                    project_id=personas.project.pk, user_id=personas.owner.pk
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=look_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [personas.project] * 4


def test_a_value_missing_or_unexpected_is_refused(personas):
    with pytest.raises(TypeError, match="project_id"):
        PROJECT_WITH_OWNER_ROLE.one_or_none(project_id=personas.project.pk)
    with pytest.raises(TypeError):
        PROJECT_WITH_OWNER_ROLE.one_or_none(
            project_id=personas.project.pk, user_id=personas.owner.pk, extra=1
        )


def test_a_stand_in_the_query_does_not_use_is_refused_when_compiling(db):
    unused = Precompiled(lambda project_id: Project.objects.all(), "project_id")
    with pytest.raises(ValueError, match="exactly one parameter; it did 0 times"):
        unused.rows(project_id=uuid.uuid4())


def test_a_stand_in_used_twice_is_refused_when_compiling(db):
    twice = Precompiled(
        lambda project_id: Project.objects.filter(
            Q(pk=project_id) | Q(organization_id=project_id)
        ),
        "project_id",
    )
    with pytest.raises(ValueError, match="it did 2 times"):
        twice.rows(project_id=uuid.uuid4())


def test_a_query_that_prefetches_is_refused(db):
    prefetching = Precompiled(
        lambda project_id: Project.objects.filter(pk=project_id).prefetch_related(
            "organization__memberships"
        ),
        "project_id",
    )
    with pytest.raises(ValueError, match="cannot prefetch"):
        prefetching.rows(project_id=uuid.uuid4())
