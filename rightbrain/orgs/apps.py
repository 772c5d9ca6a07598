from __future__ import annotations

from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "rightbrain.orgs"
    label = "orgs"
    verbose_name = "Organisations and people"
