"""Create (or refresh) the demo account, organisation, project and API key.

Safe to run any number of times: it finds what exists and creates only what is
missing, and resets the demo password so the printed login always works. API
keys are stored as digests and shown once, so each run revokes the demo user's
previous "Demo key" and prints a fresh one.
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

DEMO_EMAIL = "demo@rightbrain.local"
DEMO_PASSWORD = "rightbrain-demo"
DEMO_ORGANIZATION = "Demo organisation"
DEMO_PROJECT = "Demo project"
DEMO_KEY_NAME = "Demo key"


class Command(BaseCommand):
    help = (
        "Create the demo user, organisation and project, and print the login and "
        "a working API key. Keys are shown only once, so every run revokes the "
        f"demo user's previous “{DEMO_KEY_NAME}” and issues a new one."
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
        self.stdout.write(
            "\n".join(
                [
                    "Demo data is ready.",
                    f"  Sign in:    {result['username']} / {result['password']}",
                    f"  Org id:     {result['org_id']}",
                    f"  Project id: {result['project_id']}",
                    f"  API key:    {result['api_key']}  (shown once; a new run "
                    "replaces it)",
                ]
            )
        )
