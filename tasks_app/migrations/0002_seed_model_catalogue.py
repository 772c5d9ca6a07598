from __future__ import annotations

from django.db import migrations

from tasks_app.catalogue import catalogue_sync


def seed_model_catalogue(apps, schema_editor):
    catalogue_sync(
        llm_model=apps.get_model("tasks_app", "LLMModel"),
        llm_model_comment=apps.get_model("tasks_app", "LLMModelComment"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed_model_catalogue, migrations.RunPython.noop),
    ]
