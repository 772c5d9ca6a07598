"""Bring the model catalogue up to date with `tasks_app.catalogue`.

Creates missing models and comments and refreshes the catalogue's own fields on
existing ones; what operators set in the admin (enabled, retired, replaced by,
API base) is left alone.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tasks_app.catalogue import CATALOGUE, catalogue_sync


class Command(BaseCommand):
    help = "Create or refresh the built-in LLM model catalogue."

    def handle(self, *args, **options):
        created = catalogue_sync()
        self.stdout.write(
            f"Model catalogue synced: {created} created, "
            f"{len(CATALOGUE) - created} already present (catalogue fields now match)."
        )
