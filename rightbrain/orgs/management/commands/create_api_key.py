"""Create an API key for a project from the command line and print it once."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from rightbrain.orgs.models import Membership, Project
from rightbrain.orgs.permissions import Role
from rightbrain.orgs.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for a project and print it on standard output. The "
        "key is shown only this once (only its digest is stored). It acts as "
        "--user, or by default as the first owner of the project's organisation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="The project's id.")
        parser.add_argument(
            "--name", required=True, help="Where the key is used, e.g. 'CI'."
        )
        parser.add_argument(
            "--user",
            help="E-mail of a member of the organisation the key acts as "
            "(default: its first owner).",
        )

    def handle(self, *args, **options):
        try:
            project_id = UUID(options["project"])
        except ValueError:
            raise CommandError(f"{options['project']!r} is not a project id.") from None
        project = (
            Project.objects.select_related("organization")
            .filter(pk=project_id, archived_at__isnull=True)
            .first()
        )
        if project is None:
            raise CommandError(f"There is no active project {project_id}.")
        members = Membership.objects.filter(
            organization=project.organization
        ).select_related("user")
        if options["user"]:
            membership = members.filter(user__email__iexact=options["user"]).first()
            if membership is None:
                raise CommandError(
                    f"{options['user']} is not a member of {project.organization}."
                )
        else:
            membership = members.filter(role=Role.OWNER).order_by("created").first()
            if membership is None:
                raise CommandError(f"{project.organization} has no owner.")
        try:
            api_key, secret = api_key_create(
                project=project, user=membership.user, name=options["name"]
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stderr.write(
            f"Created the API key “{api_key.name}” ({api_key.prefix}…) acting as "
            f"{membership.user.email} in {project.organization} / {project}. "
            "It is shown only this once:"
        )
        self.stdout.write(secret)
