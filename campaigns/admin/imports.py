"""The campaign admin's "import labels" page: a COCO file or labels CSV stored as one submission."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect

from accounts.models import User
from campaigns.imports import FORMATS, ImportRefused, guess_format
from campaigns.services.imports import labels_import
from labelhub.admin.pages import render_form_page
from labelhub.exceptions import ApplicationError


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
        try:
            submission, report = labels_import(
                campaign_id=campaign.pk,
                content=upload.read(),
                file_format=form.cleaned_data["file_format"] or guess_format(upload.name),
                user=form.cleaned_data["user_email"],
            )
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
            "The labels become one submission of the chosen user, checked like the agency's: all or nothing. "
            "Images are matched by their path in the container, else by file name. The campaign must be active."
        ),
        cancel_url=model_admin.admin_url("change", campaign.pk),
    )
