"""Create (or refresh) the demo account, organisation, project and API key,
and a few gallery tasks on the offline demo model with a month of runs.

Safe to run any number of times: it finds what exists and creates only what is
missing (a demo task that exists keeps its runs; none are added), and resets
the demo password so the printed login always works. API keys are stored as
digests and shown once, so each run revokes the demo user's previous "Demo key"
and prints a fresh one.
"""

from __future__ import annotations

import json
import shlex

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from rightbrain.orgs.models import Membership, Organization, Project, User
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.services import api_key_replace
from runs_app.demo_history import (
    DEMO_TASKS,
    HISTORY_DAYS,
    demo_model,
    demo_tasks_create,
    priced_demo_revisions,
)
from tasks_app.gallery import template_named
from tasks_app.models import Task

DEMO_EMAIL = "demo@rightbrain.local"
DEMO_PASSWORD = "rightbrain-demo"
DEMO_ORGANIZATION = "Demo organisation"
DEMO_PROJECT = "Demo project"
DEMO_KEY_NAME = "Demo key"
# What the printed curl command sends to the first demo task.
TRY_INPUT = {"customer_review": "Arrived a day early and crushes ice in seconds."}


class Command(BaseCommand):
    help = (
        "Create the demo user, organisation and project, and print the login and "
        "a working API key, and add demo tasks with a month of runs. Keys are "
        "shown only once, so every run revokes the demo user's previous "
        f"“{DEMO_KEY_NAME}” and issues a new one."
    )

    def add_arguments(self, parser):
        output = parser.add_mutually_exclusive_group()
        output.add_argument(
            "--json", action="store_true", help="Print the result as one JSON object."
        )
        output.add_argument(
            "--env",
            action="store_true",
            help="Print shell exports (RB_ORG_ID, RB_PROJECT_ID, RB_API_URL, "
            'RB_API_KEY) for eval "$(manage.py seed_demo --env)".',
        )

    @transaction.atomic
    def handle(self, *args, **options):
        user, _ = User.objects.get_or_create(
            email=DEMO_EMAIL, defaults={"name": "Demo User"}
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user,
            email=DEMO_EMAIL,
            defaults={"verified": True, "primary": True},
        )
        membership = (
            Membership.objects.select_related("organization")
            .filter(user=user, organization__name=DEMO_ORGANIZATION)
            .first()
        )
        if membership is None:
            organization = Organization.objects.create(name=DEMO_ORGANIZATION)
            Membership.objects.create(
                organization=organization, user=user, role=Role.OWNER
            )
        else:
            organization = membership.organization
        project = Project.objects.filter(
            organization=organization, name=DEMO_PROJECT
        ).first() or Project.objects.create(
            organization=organization, name=DEMO_PROJECT
        )
        if project.archived_at is not None:
            project.archived_at = None
            project.save(update_fields=["archived_at"])
        _api_key, secret = api_key_replace(
            project=project, user=user, name=DEMO_KEY_NAME
        )
        has_demo_model = demo_model() is not None
        if not has_demo_model:
            self.stderr.write(
                "The offline demo model is disabled or missing, so no demo tasks "
                "were added (manage.py sync_model_catalogue restores it)."
            )
        created = demo_tasks_create(project=project, user=user)

        result = {
            "username": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
            "org_id": str(organization.pk),
            "project_id": str(project.pk),
            "api_key": secret,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        if options["env"]:
            api_url = f"{settings.SITE_ROOT}/api/v1"
            exports = {
                "RB_ORG_ID": result["org_id"],
                "RB_PROJECT_ID": result["project_id"],
                "RB_API_URL": api_url,
                "RB_API_KEY": secret,
            }
            self.stdout.write(
                "\n".join(f"export {k}={shlex.quote(v)}" for k, v in exports.items())
            )
            return
        lines = [
            "Demo data is ready.",
            f"  Sign in:    {result['username']} / {result['password']}",
            f"  Org id:     {result['org_id']}",
            f"  Project id: {result['project_id']}",
            f"  API key:    {result['api_key']}  (shown once; a new run replaces it)",
        ]
        if created:
            lines.append(
                f"  Demo tasks: {len(created)} added with up to {HISTORY_DAYS} days "
                "of runs"
            )
        elif has_demo_model:
            lines.append("  Demo tasks: already there; none added")
        for task_name, alias in priced_demo_revisions(project=project):
            lines.append(
                f"  Credits:    the demo model is free; one revision of {task_name} "
                f"runs on {alias} (the demo model as fallback), and its simulated "
                f"history is charged at {alias}'s list price"
            )
        task = _first_demo_task(project)
        if task is not None:
            url = (
                f"{settings.SITE_ROOT}/api/v1/org/{organization.pk}/project/"
                f"{project.pk}/task/{task.pk}/run"
            )
            body = json.dumps({"task_input": TRY_INPUT})
            lines.append(
                f"  Try a run:  curl -s {url} -H 'Authorization: Bearer {secret}' "
                f"-H 'Content-Type: application/json' -d {shlex.quote(body)}"
            )
        self.stdout.write("\n".join(lines))


def _first_demo_task(project: Project) -> Task | None:
    template = template_named(DEMO_TASKS[0].template)
    assert template is not None
    return Task.objects.filter(
        project=project, name=template.name, deleted__isnull=True
    ).first()
