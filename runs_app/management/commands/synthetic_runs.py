"""Fill a project with synthetic runs and their rollups, for benchmarks only.

    manage.py synthetic_runs --runs 1000000 [--project <uuid>] [--tasks 20]

Without --project the runs go to a new "Synthetic" organisation owned by a new
user, so that no real project is touched by accident.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from rightbrain.orgs.models import Project, User
from rightbrain.orgs.services import organization_create
from runs_app.synthetic import synthetic_runs_create


class Command(BaseCommand):
    help = "Generate N synthetic runs with their hourly rollups (benchmarks only)."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, required=True)
        parser.add_argument("--project", help="the project's id (default: a new one)")
        parser.add_argument("--tasks", type=int, default=20)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        if options["runs"] < 0 or options["tasks"] < 1 or options["days"] < 1:
            raise CommandError("--runs must be ≥ 0, --tasks and --days ≥ 1.")
        if options["project"]:
            project = Project.objects.filter(pk=options["project"]).first()
            if project is None:
                raise CommandError(f"No project {options['project']}.")
            owner = project.organization.memberships.order_by("created").first()
            if owner is None:
                raise CommandError("That project's organisation has no members.")
            user = owner.user
        else:
            user = User.objects.create_user(
                email=f"synthetic-{time.time_ns()}@rightbrain.local"
            )
            project = organization_create(name="Synthetic", owner=user).projects.get()
        started = time.perf_counter()
        tasks = synthetic_runs_create(
            project=project,
            user=user,
            runs=options["runs"],
            tasks=options["tasks"],
            days=options["days"],
            seed=options["seed"],
        )
        self.stdout.write(
            f"{options['runs']} runs over {len(tasks)} tasks of project {project.pk} "
            f"in {time.perf_counter() - started:.1f} s"
        )
