"""``manage.py import_labels <campaign id> <file> --user <e-mail> [--model NAME]``: bring existing labels
(or, with ``--model``, a model's detections as predictions; with ``--gold``, the reference boxes of gold
images) into a campaign."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from accounts.models import User
from campaigns.imports import FORMATS, ImportRefused, guess_format, too_large_message
from campaigns.predictions import parse_predictions
from campaigns.services.gold import gold_import
from campaigns.services.imports import labels_import, predictions_import
from core.exceptions import ApplicationError

HELP = (
    "Import a COCO file or a labels CSV (labelhub's export format) into an active campaign as one "
    "submission by the given user. Images are matched by path in their container, else by file name. "
    "All or nothing: anything that does not match is reported and nothing is stored. With --gold, the file "
    "gives the reference boxes of the images it lists instead (they become gold images; the campaign may be "
    "created or active; no --user)."
)


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--user", help="E-mail of the user the submission is recorded for (required, except with --gold)."
        )
        parser.add_argument("--format", choices=FORMATS, help="Default: csv for a .csv file, else coco.")
        parser.add_argument(
            "--model",
            help="Load the file as this model's predictions (pre-annotations) instead of labels; "
            "the campaign may be created or active.",
        )
        parser.add_argument("--model-version", default="", help="The model's version (with --model).")
        parser.add_argument(
            "--gold",
            action="store_true",
            help="Load the file as the reference boxes of gold images (docs/quality.md), replacing theirs.",
        )

    def handle(
        self,
        *args,
        campaign_id: int,
        file: Path,
        user: str | None,
        format: str | None,
        model: str | None,
        model_version: str,
        gold: bool = False,
        **options,
    ):
        if gold:
            if model:
                raise CommandError("--gold and --model cannot be combined")
            self._import_gold(campaign_id, file, format)
            return
        if not user:
            raise CommandError("--user is required (the e-mail of whom the submission is recorded for)")
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
            self._write_refusal(exc)
            raise CommandError(exc.detail) from exc
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {report.objects} {'predicted ' if model else ''}object(s) on {report.images} image(s) "
                f"into campaign {campaign_id}" + (f" as submission {submission.pk}" if submission else "")
            )
        )

    def _import_gold(self, campaign_id: int, file: Path, file_format: str | None) -> None:
        try:
            stream = file.open("rb")
            size = file.stat().st_size
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            with stream:
                if size > settings.IMPORT_MAX_BYTES:
                    raise CommandError(too_large_message())
                report = gold_import(
                    campaign_id=campaign_id,
                    file=stream,
                    file_format=file_format or guess_format(file.name),
                    actor=Actor.system(),
                )
        except ImportRefused as exc:
            self._write_refusal(exc)
            raise CommandError(exc.detail) from exc
        except ApplicationError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {report.objects} reference box(es) on {report.images} gold image(s) "
                f"into campaign {campaign_id}"
            )
        )

    def _write_refusal(self, exc: ImportRefused) -> None:
        for name in exc.report.unmatched_files:
            self.stderr.write(f"not in the campaign: {name}")
        for problem in exc.report.problems:
            self.stderr.write(f"problem: {problem}")
