"""``manage.py import_labels <campaign id> <file> --user <e-mail> [--model NAME]``: bring existing labels
(or, with ``--model``, a model's detections as predictions) into a campaign."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from accounts.models import User
from campaigns.imports import FORMATS, ImportRefused, guess_format, too_large_message
from campaigns.predictions import parse_predictions
from campaigns.services.imports import labels_import, predictions_import
from core.exceptions import ApplicationError

HELP = (
    "Import a COCO file or a labels CSV (labelhub's export format) into an active campaign as one "
    "submission by the given user. Images are matched by path in their container, else by file name. "
    "All or nothing: anything that does not match is reported and nothing is stored."
)


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="E-mail of the user the submission is recorded for.")
        parser.add_argument("--format", choices=FORMATS, help="Default: csv for a .csv file, else coco.")
        parser.add_argument(
            "--model",
            help="Load the file as this model's predictions (pre-annotations) instead of labels; "
            "the campaign may be created or active.",
        )
        parser.add_argument("--model-version", default="", help="The model's version (with --model).")

    def handle(
        self,
        *args,
        campaign_id: int,
        file: Path,
        user: str,
        format: str | None,
        model: str | None,
        model_version: str,
        **options,
    ):
        submitter = User.objects.filter(email__iexact=user).first()
        if submitter is None:
            raise CommandError(f"No user with the e-mail {user!r}")
        try:
            stream = file.open("rb")
            size = file.stat().st_size
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        file_format = format or guess_format(file.name)
        # Whoever runs the command is not known to labelhub: the audit names the system,
        # and the submitter in its details.
        common = {"campaign_id": campaign_id, "file_format": file_format, "user": submitter, "actor": Actor.system()}
        try:
            with stream:
                if size > settings.IMPORT_MAX_BYTES:
                    raise CommandError(too_large_message())
                if model:
                    parsed = parse_predictions(
                        {"model": {"name": model, "version": model_version or None}, "items": []}
                    )
                    submission, report = predictions_import(
                        file=stream, model_name=parsed.model_name, model_version=parsed.model_version, **common
                    )
                else:
                    submission, report = labels_import(file=stream, **common)
        except ImportRefused as exc:
            for name in exc.report.unmatched_files:
                self.stderr.write(f"not in the campaign: {name}")
            for problem in exc.report.problems:
                self.stderr.write(f"problem: {problem}")
            raise CommandError(exc.detail) from exc
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {report.objects} {'predicted ' if model else ''}object(s) on {report.images} image(s) "
                f"into campaign {campaign_id}" + (f" as submission {submission.pk}" if submission else "")
            )
        )
