"""The campaign page's review panel, acceptance samples and the vendor statistics pages.

Each is a thin admin view over the same services and reads as the API
(``campaigns.services.samples``, ``campaigns.stats``): a refusal (the API's
4xx) becomes an error message. The statistics pages (one campaign; one
agency over a date range) download as CSV with ``?format=csv``.
"""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts.audit import Actor
from accounts.selectors import user_find
from campaigns import stats
from campaigns.admin.agreement import agreement_context, review_walk_url
from campaigns.inputs import DateRange
from campaigns.models import Campaign, CampaignLabeler, ReviewSample
from campaigns.sampling import TABLES, aql_label, defect_rate
from campaigns.selectors import campaign_latest_sample, campaign_next_inspection, campaign_review_summary
from campaigns.serializers import LotDecisionInputSerializer, SampleInputSerializer
from campaigns.services import campaign_set_reduced_inspection, inspection_resume, sample_decide_lot, sample_start
from campaigns.services.samples import f1_text, gold_refusal
from core.admin import admin_page_context, duration_text
from core.exceptions import ApplicationError
from core.serializers import validated

STATS_TEMPLATE = "admin/campaigns/campaign/stats.html"
# The API's field names in a refusal, as the campaign page labels the fields.
FIELD_WORDS = {
    "'size'": "the sample size",
    "'seed'": "the seed",
    "'reason'": "the reason",
    "'decision'": "the decision",
}


def staff_words(detail: str) -> str:
    """A refusal of the API's body in the words of the form staff filled in (no internal field names)."""
    for name, words in FIELD_WORDS.items():
        detail = detail.replace(name, words)
    return detail[:1].upper() + detail[1:]


def _review_url(campaign_id: int, **query) -> str:
    base = reverse("admin:campaigns_campaign_review", args=[campaign_id])
    return f"{base}?{urlencode(query)}" if query else base


def sample_figures(sample: ReviewSample) -> dict:
    """The sample's progress and, once decided, its defect rate with the 95 % Wilson interval."""
    rate = defect_rate(sample.rejected, sample.decided)
    return {
        "sample": sample,
        "aql": aql_label(sample.aql),
        "decided": sample.decided,
        "rejected": sample.rejected,
        "defect_rate": rate[0] if rate else None,
        "interval": rate[1] if rate else None,
        "walk_url": _review_url(sample.campaign_id, sample=sample.pk, show="pending"),
        "all_url": _review_url(sample.campaign_id, sample=sample.pk),
        "table": TABLES[sample.severity].name,
        "gold": _gold_figures(sample),
    }


def _gold_figures(sample: ReviewSample) -> dict | None:
    """The lot's gold images when the sample was drawn, against the campaign's minimum then; None: neither."""
    if not sample.gold_images and sample.gold_min_f1 is None:
        return None
    return {
        "images": sample.gold_images,
        "f1": f1_text(sample.gold_f1) if sample.gold_f1 is not None else None,
        "min_f1": f1_text(sample.gold_min_f1) if sample.gold_min_f1 is not None else None,
        "refusal": gold_refusal(sample) if sample.gold_below_minimum else "",
    }


def inspection_panel(model_admin, campaign: Campaign) -> dict:
    """The inspection the next sample will be drawn under and why (switching rules), and what staff decide of it."""
    inspection = campaign_next_inspection(campaign=campaign)
    return {
        "next": inspection,
        "table": TABLES[inspection.severity].name,
        "reduced_allowed": campaign.reduced_inspection,
        "url": model_admin.admin_url("inspection", campaign.pk),
    }


INSPECTION_ACTIONS = {
    "resume": "Inspection resumed: the next sample is drawn under tightened inspection.",
    "reduced_on": "Reduced inspection allowed: lots go to it once the switching score reaches 30.",
    "reduced_off": "Reduced inspection turned off: lots stay on normal (or tightened) inspection.",
}


def inspection_view(request, model_admin, campaign: Campaign):
    """POST ``action``: ``resume`` inspection after it was discontinued, or turn reduced inspection on or off."""
    action = request.POST.get("action", "")
    if action not in INSPECTION_ACTIONS:
        messages.error(request, "Choose what to do with the inspection.")
        return redirect(model_admin.admin_url("change", campaign.pk))
    actor = Actor.of_request(request)
    try:
        if action == "resume":
            inspection_resume(campaign_id=campaign.pk, actor=actor)
        else:
            campaign_set_reduced_inspection(campaign_id=campaign.pk, allowed=action == "reduced_on", actor=actor)
    except ApplicationError as exc:
        messages.error(request, f"Nothing changed: {exc.detail}")
    else:
        messages.success(request, INSPECTION_ACTIONS[action])
    return redirect(model_admin.admin_url("change", campaign.pk))


def review_panel(model_admin, campaign: Campaign) -> dict:
    """The review states, the latest acceptance sample, the next lot's inspection and where to act (three queries)."""
    latest = campaign_latest_sample(campaign_id=campaign.pk)
    return {
        "aql": aql_label(campaign.aql),
        "summary": campaign_review_summary(campaign_id=campaign.pk),
        "sample": sample_figures(latest) if latest is not None else None,
        "inspection": inspection_panel(model_admin, campaign),
        "urls": {
            "pending": _review_url(campaign.pk, show="pending"),
            "rejected": _review_url(campaign.pk, show="rejected"),
            "sample_start": model_admin.admin_url("sample_start", campaign.pk),
            "sample_decide": model_admin.admin_url("sample_decide", campaign.pk, latest.pk) if latest else None,
            "stats": model_admin.admin_url("stats", campaign.pk),
            "disagreements": (
                review_walk_url(campaign.pk, campaign.consensus_with_id) if campaign.consensus_with_id else None
            ),
        },
    }


def sample_start_view(request, model_admin, campaign: Campaign):
    """POST ``size`` (empty: the standard's plan) and ``seed`` (empty: random): draw a sample."""
    data = {}
    for name in ("size", "seed"):
        raw = request.POST.get(name, "").strip()
        if raw:
            data[name] = int(raw) if raw.isascii() and raw.lstrip("-").isdigit() else raw
    try:
        # The API's body: every refusal of the sample's serializer is an ApplicationError.
        new = validated(SampleInputSerializer, data)
        sample = sample_start(campaign_id=campaign.pk, new=new, actor=Actor.of_request(request))
    except ApplicationError as exc:
        messages.error(request, f"No sample drawn: {staff_words(exc.detail)}")
        return redirect(model_admin.admin_url("change", campaign.pk))
    plan = f"{sample.severity} inspection, " + (
        f"code letter {sample.code_letter}, " if sample.code_letter else "size by hand, "
    )
    messages.success(
        request,
        f"Sample {sample.pk}: {sample.sample_size} of {sample.lot_size} images ({plan}accept with at most "
        f"{sample.acceptance_number} rejected). Review them now.",
    )
    return redirect(_review_url(campaign.pk, sample=sample.pk, show="pending"))


def sample_decide_view(request, model_admin, campaign: Campaign, sample_id: int):
    """POST ``decision`` (accept/reject/discard) and an optional ``reason``: decide the sample's lot."""
    try:
        # The API's body: every refusal of the lot decision's serializer is an ApplicationError.
        decision = validated(
            LotDecisionInputSerializer,
            {"decision": request.POST.get("decision"), "reason": request.POST.get("reason") or None},
        )
        sample_decide_lot(
            campaign_id=campaign.pk, sample_id=sample_id, decision=decision, actor=Actor.of_request(request)
        )
    except ApplicationError as exc:
        messages.error(request, f"Lot not decided: {staff_words(exc.detail)}")
    else:
        done = "discarded, no image decided" if decision.decision == "discard" else f"lot {decision.decision}ed"
        messages.success(request, f"Sample {sample_id}: {done}.")
    return redirect(model_admin.admin_url("change", campaign.pk))


class StatsRangeForm(forms.Form):
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(
        required=False, label="Until (not included)", widget=forms.DateInput(attrs={"type": "date"})
    )
    agency = forms.ChoiceField(required=False, label="Agency")

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", "—"), *((email, email) for email in agencies)]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("“From” must not be later than “Until”.")
        return data

    def date_range(self) -> DateRange:
        def aware(day):
            return timezone.make_aware(datetime.combine(day, time.min)) if day else None

        return DateRange(aware(self.cleaned_data.get("since")), aware(self.cleaned_data.get("until")))


def _agencies() -> list[str]:
    """E-mails of every user labeling a campaign (the agency picker)."""
    return list(CampaignLabeler.objects.order_by("user__email").values_list("user__email", flat=True).distinct())


def _csv_response(report: stats.StatsReport, filename: str) -> HttpResponse:
    response = HttpResponse(stats.stats_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def campaign_stats_view(request, model_admin, campaign: Campaign):
    """One campaign's figures over a date range; ``?format=csv`` downloads them."""
    form = StatsRangeForm(request.GET or None)
    dates = form.date_range() if form.is_valid() else DateRange()
    report = stats.vendor_stats(campaigns=Campaign.objects.filter(pk=campaign.pk), dates=dates)
    if request.GET.get("format") == "csv" and (not request.GET or form.is_valid()):
        return _csv_response(report, f"{campaign.title}-stats.csv")
    extra = agreement_context(campaigns=[campaign], dates=dates)
    return _stats_page(request, model_admin, form, report, title=f"Vendor statistics of {campaign.title}", extra=extra)


def agency_stats_view(request, model_admin):
    """Every campaign of one agency over a date range; ``?format=csv`` downloads them."""
    form = StatsRangeForm(request.GET or None, agencies=_agencies())
    report, extra = None, None
    if form.is_valid() and form.cleaned_data.get("agency"):
        agency = user_find(email=form.cleaned_data["agency"])
        if agency is not None:
            report = stats.agency_stats(agency=agency, dates=form.date_range())
            if request.GET.get("format") == "csv":
                return _csv_response(report, f"{agency.email}-stats.csv")
            campaigns = list(Campaign.objects.filter(labelers=agency).order_by("pk"))
            extra = agreement_context(campaigns=campaigns, dates=form.date_range(), agency=agency)
    return _stats_page(
        request, model_admin, form, report, title="Vendor statistics by agency", agency_form=True, extra=extra
    )


def _shown(figures: dict) -> dict:
    return {
        **figures,
        "first_text": duration_text(figures["median_seconds_to_first_submission"]),
        "rework_text": duration_text(figures["median_seconds_to_resubmission"]),
    }


def _stats_page(request, model_admin, form, report, *, title: str, agency_form: bool = False, extra=None):
    query = request.GET.copy()
    query["format"] = "csv"
    context = admin_page_context(
        request,
        model_admin,
        title=title,
        form=form,
        agency_form=agency_form,
        report=report,
        rows=[(row, _shown(row.as_dict()) | {"gold": report.gold_of(row)}) for row in report.rows] if report else [],
        total=_shown(report.total.as_dict()) | {"gold": report.gold_of(report.total)} if report else None,
        gold_weeks=report.gold_weeks if report else [],
        csv_url=f"?{query.urlencode()}",
        agency_url=reverse("admin:campaigns_campaign_agency_stats"),
        media=model_admin.media,
        **(extra or {}),  # agreement and annotators (campaigns/admin/agreement.py)
    )
    return TemplateResponse(request, STATS_TEMPLATE, context)
