"""A latency histogram on each hourly rollup row (runs_app/latency.py), and an
index for listing a project's runs newest first across its tasks.

Existing rows get their histograms from the runs they sum, once, here; from
then on the run's own upsert keeps them.

The chain: this follows 0004_share_runs; until that migration lands it depends
on 0003_run_status.
"""

from __future__ import annotations

import bisect
from collections import Counter

from django.db import migrations, models

# A copy of runs_app.latency.BOUNDS as they were when this migration was written.
BOUNDS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0)
NO_GROUP = "00000000-0000-0000-0000-000000000000"


def histograms_from_runs(apps, schema_editor):
    TaskRun = apps.get_model("runs_app", "TaskRun")
    HourlyUsage = apps.get_model("runs_app", "HourlyUsage")
    counts: Counter = Counter()
    runs = TaskRun.objects.filter(
        llm_call_timing__isnull=False, llm_model__isnull=False
    ).values_list(
        "task_id",
        "task_revision_id",
        "reporting_group_id",
        "llm_model_id",
        "created",
        "llm_call_timing",
    )
    for task, revision, group, model, created, seconds in runs.iterator(
        chunk_size=5000
    ):
        hour = created.replace(minute=0, second=0, microsecond=0)
        key = (task, revision, str(group or NO_GROUP), model, hour)
        counts[key, bisect.bisect_left(BOUNDS, max(seconds, 0.0))] += 1
    if not counts:
        return
    by_row: dict = {}
    for (key, bucket), count in counts.items():
        by_row.setdefault(key, {})[f"llm_hist_{bucket:02d}"] = count
    changed = []
    for row in HourlyUsage.objects.iterator(chunk_size=5000):
        key = (
            row.task_id,
            row.task_revision_id,
            str(row.reporting_group_key),
            row.llm_model_id,
            row.hour,
        )
        for column, count in by_row.get(key, {}).items():
            setattr(row, column, count)
            changed.append(row)
    names = [f"llm_hist_{index:02d}" for index in range(len(BOUNDS) + 1)]
    HourlyUsage.objects.bulk_update(set(changed), names, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("runs_app", "0003_run_status"),
    ]

    operations = [
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_00",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_01",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_02",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_03",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_04",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_05",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_06",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_07",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_08",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_09",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_10",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_11",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_12",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_13",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_14",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="hourlyusage",
            name="llm_hist_15",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.RunPython(histograms_from_runs, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="taskrun",
            index=models.Index(fields=["-created", "-id"], name="run_by_created"),
        ),
    ]
