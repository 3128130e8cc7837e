"""Tie upload URLs to the set: ``ImageSet.dropbox_key``, a random secret per set.

Added nullable, filled with a distinct value per existing row, then made
unique with its default (a callable default alone would give every existing
row the same value).
"""

import secrets

from django.db import migrations, models

import imagesets.naming


def fill_dropbox_keys(apps, schema_editor):
    ImageSet = apps.get_model("imagesets", "ImageSet")
    for pk in ImageSet.objects.filter(dropbox_key__isnull=True).values_list("pk", flat=True).iterator():
        ImageSet.objects.filter(pk=pk).update(dropbox_key=secrets.token_hex(16))


class Migration(migrations.Migration):
    dependencies = [
        ("imagesets", "0002_job_heartbeat"),
    ]

    operations = [
        migrations.AddField(
            model_name="imageset",
            name="dropbox_key",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(fill_dropbox_keys, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="imageset",
            name="dropbox_key",
            field=models.CharField(
                default=imagesets.naming.new_dropbox_key, editable=False, max_length=64, unique=True
            ),
        ),
    ]
