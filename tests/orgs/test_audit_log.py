"""The audit log's console page and API list, for owners and admins only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from rightbrain.orgs.models import AuditEvent
from rightbrain.orgs.services import audit_record
from tests.helpers import ApiClient
from tests.orgs.oauth_helpers import client_credentials, make_client

Action = AuditEvent.Action


def _events(organization, count: int, action: str = Action.TASK_EDITED) -> None:
    """`count` events an hour apart, the newest now."""
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            organization=organization,
            actor_label="someone@acme.test",
            action=action,
            target_type="task",
            target_id=str(n),
            target_label=f"Task {n}",
            created=now - timedelta(hours=n),
        )
        for n in range(count)
    )


# The console page --------------------------------------------------------------------


def _page_url(personas) -> str:
    return reverse("console_audit", args=[personas.organization.pk])


def test_owners_and_admins_see_the_page_others_do_not(personas, as_user):
    url = _page_url(personas)
    assert as_user("owner").get(url).status_code == 200
    assert as_user("admin").get(url).status_code == 200
    assert as_user("editor").get(url).status_code == 403
    assert as_user("viewer").get(url).status_code == 403
    assert as_user("outsider").get(url).status_code == 404


def test_the_page_says_when_nothing_is_recorded(personas, as_user):
    page = as_user("owner").get(_page_url(personas)).text
    assert "Nothing recorded yet" in page


def test_the_page_lists_events_newest_first_and_escapes_them(personas, as_user):
    audit_record(
        organization_id=personas.organization.pk,
        actor=personas.admin,
        action=Action.TASK_CREATED,
        target_type="task",
        target_label="<script>alert(1)</script>",
        details={"project_id": "p"},
    )
    _events(personas.other_organization, 1)  # another organisation's: not shown
    page = as_user("owner").get(_page_url(personas)).text
    assert "admin@acme.test" in page
    assert "Task created" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert "Task 0" not in page


def test_the_page_filters_by_action_and_pages_back(personas, as_user):
    _events(personas.organization, 60)
    _events(personas.organization, 1, action=Action.SHARE_CREATED)
    client = as_user("admin")
    url = _page_url(personas)

    first = client.get(url).text
    assert first.count('id="event-') == 50
    assert "Older events" in first
    filtered = client.get(url, {"action": Action.SHARE_CREATED}).text
    assert filtered.count('id="event-') == 1
    assert "Share created" in filtered

    last_shown = AuditEvent.objects.filter(organization=personas.organization)[49]
    older = client.get(url, {"after": str(last_shown.pk)}).text
    assert older.count('id="event-') == 11
    assert "Older events" not in older
    assert "Newest" in older


def test_a_bad_filter_or_cursor_is_explained_or_reset(personas, as_user):
    _events(personas.organization, 2)
    client = as_user("owner")
    url = _page_url(personas)
    bad = client.get(url, {"action": "task.vanished"})
    assert bad.status_code == 200
    assert "not an action the log records" in bad.text
    assert bad.text.count('id="event-') == 2
    unknown = client.get(url, {"after": "01900000-0000-7000-8000-000000000000"})
    assert unknown.status_code == 302
    assert unknown.url == url
    assert client.get(url, {"after": "nope"}).status_code == 200


def test_the_page_renders_its_results_as_a_fragment_for_htmx(personas, as_user):
    _events(personas.organization, 3)
    response = as_user("owner").get(
        _page_url(personas),
        {"action": Action.TASK_EDITED},
        headers={"HX-Request": "true", "HX-Target": "audit-results"},
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="audit-results"' in response.text
    assert response.text.count('id="event-') == 3


def test_the_page_costs_the_same_queries_however_many_events(
    personas, as_user, django_assert_num_queries
):
    client = as_user("owner")
    url = _page_url(personas)
    _events(personas.organization, 3)
    client.get(url)
    # 1 session, 2 user, 3 the owner's membership + organisation, 4 one page of
    # events, 5-6 the switcher's memberships and projects.
    with django_assert_num_queries(6):
        client.get(url)
    _events(personas.organization, 200)
    with django_assert_num_queries(6):
        client.get(url)


# The API list --------------------------------------------------------------------


def _log_url(organization) -> str:
    return f"/api/v1/org/{organization.pk}/audit_log"


def test_the_api_lists_events_for_owners_and_admins(personas, api):
    owner = api("owner")
    body = owner.get(_log_url(personas.organization)).json()
    assert [event["action"] for event in body["results"]] == [Action.API_KEY_CREATED]
    event = body["results"][0]
    assert event["actor"] == personas.owner.email
    assert event["actor_id"] == str(personas.owner.pk)
    assert event["target_type"] == "api_key"
    assert body["pagination"] == {
        "next_cursor": None,
        "has_next": False,
        "page_limit": 100,
    }
    assert api("admin").get(_log_url(personas.organization)).status_code == 200


def test_the_api_refuses_lower_roles_outsiders_and_service_accounts(
    personas, api, project_base
):
    url = _log_url(personas.organization)
    for persona in ("editor", "viewer"):
        response = api(persona).get(url)
        assert response.status_code == 403, persona
        assert response.json()["type"] == "authorization_error"
    # The outsider's key, and an owner's key aimed at another organisation.
    assert api("outsider").get(url).status_code == 404
    assert api("owner").get(_log_url(personas.other_organization)).status_code == 404
    assert api(None).get(url).status_code == 401
    client, secret = make_client(
        personas.project, personas.owner, client_type="project"
    )
    service = ApiClient(client_credentials(client, secret), project_base)
    assert service.get(url).status_code == 403


def test_the_api_filters_by_action_and_pages_with_a_cursor(personas, api):
    owner = api("owner")
    url = _log_url(personas.organization)
    _events(personas.organization, 5)

    first = owner.get(url, action=Action.TASK_EDITED, page_limit=3).json()
    assert [e["target_label"] for e in first["results"]] == [
        "Task 0",
        "Task 1",
        "Task 2",
    ]
    assert first["pagination"]["has_next"] is True
    cursor = first["pagination"]["next_cursor"]
    second = owner.get(url, action=Action.TASK_EDITED, page_limit=3, cursor=cursor)
    assert [e["target_label"] for e in second.json()["results"]] == ["Task 3", "Task 4"]
    assert second.json()["pagination"]["has_next"] is False


@pytest.mark.parametrize(
    "params",
    [
        {"action": "task.vanished"},
        {"page_limit": 0},
        {"page_limit": "many"},
        {"cursor": "nope"},
        {"cursor": "01900000-0000-7000-8000-000000000000"},
    ],
)
def test_the_api_answers_bad_queries_with_400(personas, api, params):
    response = api("owner").get(_log_url(personas.organization), **params)
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_the_api_list_costs_the_same_queries_however_many_events(
    personas, api, django_assert_num_queries
):
    owner = api("owner")
    url = _log_url(personas.organization)
    owner.get(url)  # stamps last_used on the key
    # 1 key with user, project and role, 2 one page of events.
    with django_assert_num_queries(2):
        owner.get(url)
    _events(personas.organization, 300)
    with django_assert_num_queries(2):
        assert len(owner.get(url).json()["results"]) == 100
