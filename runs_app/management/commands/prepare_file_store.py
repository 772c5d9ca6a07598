"""Make the run-file store ready: once per deploy, after `migrate`.

    manage.py prepare_file_store

With RB_S3_BUCKET set it creates the bucket when missing and checks that the
app can write, read and delete objects there and that they are private; it
exits non-zero with the reason otherwise. With local disk it does nothing.
"""

from __future__ import annotations

from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError

from runs_app import file_store


class Command(BaseCommand):
    help = "Create the run-file bucket if missing and check it is usable and private."

    def handle(self, *args, **options):
        try:
            done = file_store.prepare(storages["default"])
        except file_store.StoreNotReady as error:
            raise CommandError(str(error)) from None
        for line in done:
            self.stdout.write(line)
