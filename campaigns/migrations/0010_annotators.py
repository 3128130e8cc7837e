# Per-annotator figures and agreement between agencies (issue 26): a submission's annotator (the agency's own
# worker id) and the campaign a campaign is compared with.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0009_gold"),
    ]

    operations = [
        migrations.AddField(
            model_name="submission",
            name="annotator",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AddField(
            model_name="campaign",
            name="consensus_with",
            field=models.ForeignKey(
                blank=True,
                help_text="Another campaign labeling the same images for another agency: the statistics show how "
                "the two agree (per annotator too) and the export adds a COCO file of the boxes both agencies "
                "agree on.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="campaigns.campaign",
                verbose_name="compare with campaign",
            ),
        ),
    ]
