"""The campaign admin's forms: each field checked by the same input checks as the API's body."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from campaigns.inputs import validate_gold_min_f1, validate_label_translations, validate_labeler_email
from campaigns.label_schema import parse_label_schema
from campaigns.models import Campaign
from campaigns.sampling import AQLS, DEFAULT_AQL, aql_label
from core.admin import JsonObjectField, clean_with
from core.validators import validate_metadata, validate_title


class LabelSchemaField(JsonObjectField):
    """The label schema: a JSON list (or nothing), checked by ``clean_labels``."""

    def validate(self, value):
        if isinstance(value, list):
            return  # parse_label_schema checks it, NUL and invalid Unicode included
        super().validate(value)

    def to_python(self, value):
        value = super().to_python(value)
        if isinstance(value, dict):
            raise forms.ValidationError('Enter a JSON list of {"name", "colour", "description"} (or leave it empty).')
        return value


LABELS_HELP = (
    'Optional JSON list of the only labels allowed, e.g. <code>[{"name": "Plastic", "colour": "#1f77b4", '
    '"description": "Any plastic item"}]</code>. Editable while the campaign is created.'
)


class CampaignJsonChecks:
    """``metadata``, ``label_translations`` and ``labels`` as ``POST /campaigns`` takes them."""

    def clean_labels(self):
        return clean_with(parse_label_schema, self.cleaned_data.get("labels"), name="labels", label="the label schema")

    def clean_metadata(self):
        return clean_with(validate_metadata, self.cleaned_data.get("metadata"), name="metadata", label="the metadata")

    def clean_label_translations(self):
        return clean_with(
            validate_label_translations,
            self.cleaned_data.get("label_translations"),
            name="label_translations",
            label="the label translations",
        )


AQL_CHOICES = [(str(aql), f"{aql} %") for aql in AQLS]


class ReviewPolicyFields(forms.Form):
    review_required = forms.BooleanField(
        required=False,
        label="Review required",
        help_text="Finishing is refused until every image is accepted.",
    )
    aql = forms.TypedChoiceField(
        label="AQL",
        choices=AQL_CHOICES,
        coerce=Decimal,
        required=False,
        empty_value=DEFAULT_AQL,
        initial=str(DEFAULT_AQL),
        help_text="Acceptance quality limit of the acceptance sampling (ISO 2859-1, level II; the switching rules "
        "choose normal, tightened or reduced inspection).",
    )
    gold_min_f1 = forms.DecimalField(
        label="Gold minimum F1",
        required=False,
        min_value=0,
        max_value=1,
        max_digits=4,
        decimal_places=3,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1", "placeholder": "no gate"}),
        help_text="A lot whose gold images score a pooled F1 below this (0 to 1) is rejected. Empty: no gold gate.",
    )

    def clean_gold_min_f1(self):
        return clean_with(
            validate_gold_min_f1, self.cleaned_data.get("gold_min_f1"), name="gold_min_f1", label="the minimum F1"
        )


class CampaignForm(CampaignJsonChecks, forms.ModelForm):
    """The change page edits metadata, label translations, the review policy and (while created) the label schema."""

    aql = ReviewPolicyFields.base_fields["aql"]
    gold_min_f1 = ReviewPolicyFields.base_fields["gold_min_f1"]
    clean_gold_min_f1 = ReviewPolicyFields.clean_gold_min_f1

    class Meta:
        model = Campaign
        fields = ("metadata", "label_translations", "labels", "review_required", "aql", "gold_min_f1", "consensus_with")
        field_classes = {"metadata": JsonObjectField, "label_translations": JsonObjectField, "labels": LabelSchemaField}
        help_texts = {"labels": LABELS_HELP}

    def clean_labels(self):
        labels = super().clean_labels()
        if self.instance.pk and self.instance.status != Campaign.Status.CREATED and labels != self.instance.labels:
            raise forms.ValidationError("The label schema can only change while the campaign is created.")
        return labels

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # The choice as the standard writes it ("10", "1.0", "0.010"), not as stored ("10.000").
            self.initial["aql"] = aql_label(self.instance.aql)
        if "consensus_with" in self.fields:  # agreement between agencies: any campaign but this one
            compared = self.fields["consensus_with"]
            compared.queryset = Campaign.objects.exclude(pk=self.instance.pk).order_by("-pk")
            compared.empty_label = "— none —"


class CampaignCreateForm(CampaignJsonChecks, forms.Form):
    title = forms.CharField(
        help_text="1–53 lowercase letters, digits and single dashes, e.g. <code>campaign-26-10-2020</code>.",
        widget=forms.TextInput(attrs={"size": 53, "autofocus": True}),
    )
    labeler_email = forms.EmailField(
        label="Agency e-mail",
        help_text="The labeler is found by this e-mail or created, and may label this campaign only.",
    )
    metadata = JsonObjectField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text='Optional JSON object, e.g. <code>{"to_be_used_for": "New train set"}</code>.',
    )
    label_translations = JsonObjectField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=(
            'Optional JSON object mapping a submitted label to the stored one, e.g. <code>{"PET": "Plastic"}</code>.'
        ),
    )

    review_required = ReviewPolicyFields.base_fields["review_required"]
    aql = ReviewPolicyFields.base_fields["aql"]
    gold_min_f1 = ReviewPolicyFields.base_fields["gold_min_f1"]
    clean_gold_min_f1 = ReviewPolicyFields.clean_gold_min_f1
    labels = LabelSchemaField(
        required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), help_text=LABELS_HELP
    )

    def clean_title(self):
        return clean_with(validate_title, self.cleaned_data.get("title"))

    def clean_labeler_email(self):
        return clean_with(
            validate_labeler_email, self.cleaned_data.get("labeler_email"), name="labeler_email", label="the e-mail"
        )
