"""Daily rollups (DailyUsage): the hourly sums per UTC day, kept from now on by
the run's own upsert next to the hourly one (runs_app/services.py). Existing
days are summed from the hourly rows, once, here.
"""

from __future__ import annotations

import uuid
from datetime import UTC

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Sum
from django.db.models.functions import TruncDay

KEY = ("task_id", "task_revision_id", "reporting_group_key", "llm_model_id")
SUMS = (
    "runs",
    "errors",
    "input_tokens",
    "output_tokens",
    "credits",
    "llm_seconds",
    "processor_seconds",
    *(f"llm_hist_{index:02d}" for index in range(16)),
)


def days_from_hours(apps, schema_editor):
    HourlyUsage = apps.get_model("runs_app", "HourlyUsage")
    DailyUsage = apps.get_model("runs_app", "DailyUsage")
    rows = (
        HourlyUsage.objects.annotate(day=TruncDay("hour", tzinfo=UTC))
        .values(*KEY, "day")
        .annotate(**{name: Sum(name) for name in SUMS})
        .order_by()
    )
    DailyUsage.objects.bulk_create(
        (DailyUsage(**row) for row in rows.iterator(chunk_size=5000)),
        batch_size=5000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("runs_app", "0005_latency_histogram"),
        ("tasks_app", "0003_task_forwarder"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyUsage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "reporting_group_key",
                    models.UUIDField(
                        default=uuid.UUID("00000000-0000-0000-0000-000000000000")
                    ),
                ),
                ("runs", models.PositiveIntegerField(default=0)),
                ("errors", models.PositiveIntegerField(default=0)),
                ("input_tokens", models.BigIntegerField(default=0)),
                ("output_tokens", models.BigIntegerField(default=0)),
                (
                    "credits",
                    models.DecimalField(decimal_places=2, default=0, max_digits=16),
                ),
                ("llm_seconds", models.FloatField(default=0)),
                ("processor_seconds", models.FloatField(default=0)),
                ("llm_hist_00", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_01", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_02", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_03", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_04", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_05", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_06", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_07", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_08", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_09", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_10", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_11", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_12", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_13", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_14", models.PositiveIntegerField(db_default=0, default=0)),
                ("llm_hist_15", models.PositiveIntegerField(db_default=0, default=0)),
                ("day", models.DateTimeField()),
                (
                    "llm_model",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tasks_app.llmmodel",
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tasks_app.task",
                    ),
                ),
                (
                    "task_revision",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tasks_app.taskrevision",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["task", "day"], name="usage_by_task_day")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "task",
                            "task_revision",
                            "reporting_group_key",
                            "llm_model",
                            "day",
                        ),
                        name="daily_usage_key",
                    )
                ],
            },
        ),
        migrations.RunPython(days_from_hours, migrations.RunPython.noop),
    ]
