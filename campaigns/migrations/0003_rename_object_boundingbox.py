"""``Object`` becomes ``BoundingBox``, reached as ``boxes`` from its image and submission.

``RenameModel`` renames the table (``campaigns_object`` -> ``campaigns_boundingbox``)
and keeps every row; the foreign keys only change their reverse names (no SQL).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_job_heartbeat"),
    ]

    operations = [
        migrations.RenameModel(old_name="Object", new_name="BoundingBox"),
        migrations.AlterField(
            model_name="boundingbox",
            name="campaign_image",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="boxes", to="campaigns.campaignimage"
            ),
        ),
        migrations.AlterField(
            model_name="boundingbox",
            name="submission",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="boxes", to="campaigns.submission"
            ),
        ),
    ]
