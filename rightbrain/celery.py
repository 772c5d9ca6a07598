"""The Celery app. Configuration comes from Django settings (CELERY_* names).

With no broker configured, settings make tasks run eagerly in the calling process.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rightbrain.settings")

app = Celery("rightbrain")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
