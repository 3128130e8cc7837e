"""The image-set admin's forms: each field checked by the same input checks as the API's body."""

from __future__ import annotations

from django import forms

from core.admin import JsonObjectField, clean_with
from core.validators import validate_title
from imagesets.models import ImageSet


class ImageSetCreateForm(forms.Form):
    title = forms.CharField(
        help_text="1–53 lowercase letters, digits and single dashes, e.g. <code>imageset-26-10-2020</code>. "
        "It names the dropbox and the set's folder in storage.",
        widget=forms.TextInput(attrs={"size": 53, "autofocus": True}),
    )
    metadata = JsonObjectField(
        required=False,
        help_text='Optional JSON object, e.g. <code>{"country": "Nederland"}</code>.',
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def clean_title(self):
        return clean_with(validate_title, self.cleaned_data.get("title"))


class ImageSetForm(forms.ModelForm):
    """The change page edits the metadata only (the other fields are read-only)."""

    class Meta:
        model = ImageSet
        fields = ("metadata",)
        field_classes = {"metadata": JsonObjectField}
