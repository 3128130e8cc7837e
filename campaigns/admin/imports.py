"""The campaign admin's "import labels" page: a COCO file or labels CSV stored as one submission, or as a
model's predictions."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect

from accounts.audit import Actor
from accounts.models import User
from campaigns.imports import FORMATS, ImportRefused, guess_format, too_large_message
from campaigns.services.imports import labels_import, predictions_import
from core.admin.pages import render_form_page
from core.exceptions import ApplicationError


class ImportLabelsForm(forms.Form):
    file = forms.FileField(help_text="A COCO JSON file, or a labels CSV as labelhub exports it.")
    file_format = forms.ChoiceField(
        label="Format",
        choices=[("", "By the file name (.csv: labels CSV, else COCO)"), *((f, f.upper()) for f in FORMATS)],
        required=False,
    )
    user_email = forms.EmailField(
        label="Submitted by", help_text="The user the submission is recorded for (e.g. the agency's e-mail)."
    )
    model_name = forms.CharField(
        required=False,
        max_length=128,
        help_text="Give a model's name to load the file as its predictions (pre-annotations) instead of labels.",
    )
    model_version = forms.CharField(required=False, max_length=128)

    def clean_file(self):
        # Django has the upload in a temporary file by now; refused here, it is never read.
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(too_large_message())
        return upload

    def clean_user_email(self):
        user = User.objects.filter(email__iexact=self.cleaned_data["user_email"]).first()
        if user is None:
            raise forms.ValidationError("No user has this e-mail.")
        return user


def import_labels_page(request, model_admin, *, campaign):
    """GET: the form; POST: import, then back to the campaign with what was stored or the report."""
    form = ImportLabelsForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = form.cleaned_data
        common = {
            "campaign_id": campaign.pk,
            "file": upload,
            "file_format": data["file_format"] or guess_format(upload.name),
            "user": data["user_email"],
            # The staff member importing is the actor; the chosen user only whom the labels are recorded for.
            "actor": Actor.of_request(request),
        }
        try:
            if data["model_name"]:
                _, report = predictions_import(
                    model_name=data["model_name"], model_version=data["model_version"], **common
                )
            else:
                _, report = labels_import(**common)
        except ImportRefused as exc:
            form.add_error(None, exc.detail)
        except ApplicationError as exc:
            form.add_error(None, f"{campaign.title}: {exc.detail}")
        else:
            model_admin.message_user(
                request,
                f"Imported {report.objects} object(s) on {report.images} image(s) into {campaign.title}.",
                messages.SUCCESS,
            )
            return redirect(model_admin.admin_url("change", campaign.pk))
    return render_form_page(
        request,
        model_admin,
        form=form,
        title=f"Import labels into {campaign.title}",
        submit="Import",
        intro=(
            "The labels become one submission of the chosen user, checked like the agency's: all or nothing "
            "(the audit trail records you as who imported them). "
            "Images are matched by their path in the container, else by file name. Labels need an active "
            "campaign; a model's predictions a created or active one."
        ),
        cancel_url=model_admin.admin_url("change", campaign.pk),
    )
