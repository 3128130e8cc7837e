"""``manage.py export_campaign <id>``: run (or retry) the export of a finished campaign inline."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from campaigns.export.services import campaign_export_run
from core.exceptions import ApplicationError

HELP = (
    "Export a finished campaign now, in this process: the labels CSV, AutoML JSONL/MLTable, COCO and "
    "images MLTable in storage, then the Azure ML data assets when configured. A rerun overwrites its "
    "own files and registers no duplicate asset versions."
)


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even if the job is marked running (a worker that died mid-export).",
        )

    def handle(self, *args, campaign_id: int, force: bool, **options):
        try:
            job = campaign_export_run(campaign_id=campaign_id, force=force)
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        except Exception as exc:
            raise CommandError(f"Export of campaign {campaign_id} failed: {type(exc).__name__}: {exc}") from exc
        result = job.result
        for file in result["files"]:
            self.stdout.write(f"wrote {file['path']} ({file['size']} bytes)")
        azure = result["azureml"]
        if azure["status"] == "skipped":
            self.stdout.write(f"azure ml: skipped ({azure['reason']})")
        else:
            for asset in azure["assets"]:
                state = "registered" if asset["created"] else "unchanged"
                self.stdout.write(f"azure ml: {asset['name']} version {asset['version']} {state}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported campaign {campaign_id}: {result['images']} images, {result['objects']} objects"
            )
        )
