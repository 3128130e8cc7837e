"""The webhooks in the staff admin: endpoints (secret shown once), events, deliveries with every attempt.

Deliveries are shown where staff look for them: each endpoint's row counts
its deliveries by status, and its page lists the latest ones above the form
(status, attempts, HTTP status, last error). django-q2 keeps no task of them
(``webhooks.services.outbox``): a send that got a 503 is not a "successful task".
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.admin import AdminBase, ImageAdminAccess, PanelsAboveForm, admin_page_context, duration_text
from core.audit import actor_of_request
from core.exceptions import ApplicationError
from webhooks import inputs, services
from webhooks.events import event_types
from webhooks.models import URL_MAX_LENGTH, DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent

RECENT_DELIVERIES = 20
DELIVERY_STATUSES = (
    (DeliveryStatus.SUCCEEDED, "succeeded"),
    (DeliveryStatus.FAILED, "failed"),
    (DeliveryStatus.PENDING, "pending"),
)


def _event_choices():
    return [(t.name, f"{t.name}{'' if t.agency else ' (staff only)'}") for t in event_types()]


class WebhookForm(forms.ModelForm):
    """The endpoint's fields, checked as the API checks them (``webhooks.inputs``)."""

    url = forms.URLField(label="URL", max_length=URL_MAX_LENGTH, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=_event_choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Webhook
        fields = ("url", "description", "events", "owner", "active")

    def _check(self, name, parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except ApplicationError as exc:
            self.add_error(name, exc.detail)
            return None

    def clean(self):
        data = super().clean()
        if data.get("url"):
            data["url"] = self._check("url", inputs.parse_url, data["url"])
        if data.get("events"):
            data["events"] = self._check("events", inputs.parse_events, data["events"], agency=bool(data.get("owner")))
        owner = data.get("owner")
        owner_id = owner.pk if owner is not None else None
        if "owner" in data and (self.instance.pk is None or owner_id != self.instance.owner_id):
            # The admin's change page runs in one transaction: the owner's lock taken here holds
            # until the save, so a concurrent create cannot slip past the cap in between.
            self._check("owner", services.webhook_owner_check_room, owner_id=owner_id, webhook_id=self.instance.pk)
        return data


@admin.register(Webhook)
class WebhookAdmin(PanelsAboveForm, ImageAdminAccess, admin.ModelAdmin):
    form = WebhookForm
    list_display = (
        "id",
        "url",
        "owner",
        "event_list",
        "active",
        "delivery_counts",
        "consecutive_failures",
        "disabled",
        "date_created",
    )
    list_display_links = ("id", "url")
    list_filter = ("active",)
    search_fields = ("url", "owner__email", "description")
    list_select_related = ("owner",)
    readonly_fields = ("consecutive_failures", "disabled_reason", "date_disabled", "date_created")
    actions = ["redeliver_failed", "enable"]

    def get_queryset(self, request):
        by_status = {
            f"n_{status}": Count("deliveries", filter=Q(deliveries__status=status)) for status in DeliveryStatus.values
        }
        return super().get_queryset(request).annotate(**by_status)

    def _deliveries_url(self, webhook, **query) -> str:
        params = "".join(f"&{key}={value}" for key, value in query.items())
        return reverse("admin:webhooks_webhookdelivery_changelist") + f"?webhook__id__exact={webhook.pk}{params}"

    @admin.display(description="deliveries")
    def delivery_counts(self, obj):
        """Succeeded · failed · pending, each a link to those deliveries."""
        parts = [
            (
                self._deliveries_url(obj, status__exact=status),
                f"lh-delivery-{status}",
                getattr(obj, f"n_{status}", 0),
                label,
            )
            for status, label in DELIVERY_STATUSES
        ]
        return format_html_join(" · ", '<a href="{}" class="{}">{} {}</a>', parts)

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "events", "owner", "active"]
        return fields if obj is None else [*fields, *self.readonly_fields]

    @admin.display(description="events")
    def event_list(self, obj):
        return ", ".join(obj.events or [])

    @admin.display(description="disabled because")
    def disabled(self, obj):
        if not obj.disabled_reason:
            return "-"
        when = f" ({obj.date_disabled:%Y-%m-%d %H:%M} UTC)" if obj.date_disabled else ""
        return f"{obj.disabled_reason}{when}"

    def panels(self, request, obj) -> dict:
        """Above the form: the endpoint's deliveries by status and its latest ones (two queries)."""
        counts = WebhookDelivery.objects.filter(webhook=obj).values("status").annotate(n=Count("pk")).order_by()
        by_status = {row["status"]: row["n"] for row in counts}
        latest = WebhookDelivery.objects.filter(webhook=obj).select_related("event").order_by("-pk")
        return {
            "counts": [
                {
                    "status": status,
                    "label": label,
                    "n": by_status.get(status, 0),
                    "url": self._deliveries_url(obj, status__exact=status),
                }
                for status, label in DELIVERY_STATUSES
            ],
            "rows": [
                {"delivery": delivery, "url": reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])}
                for delivery in latest[:RECENT_DELIVERIES]
            ],
            "shown": RECENT_DELIVERIES,
            "all_url": self._deliveries_url(obj),
            "total": sum(by_status.values()),
        }

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.webhook_update(
                webhook_id=obj.pk,
                url=data["url"],
                events=data["events"],
                description=data["description"],
                active=data["active"],
                owner=data["owner"],
                actor=actor_of_request(request),
            )
            obj.refresh_from_db()
        else:
            created = services.webhook_create(
                url=data["url"],
                events=data["events"],
                description=data["description"],
                active=data["active"],
                owner=data["owner"],
                created_by=request.user,
                actor=actor_of_request(request),
            )
            obj.pk = created.pk
            obj.secret = created.secret

    def delete_model(self, request, obj):
        services.webhook_delete(webhook_id=obj.pk, actor=actor_of_request(request))

    def delete_queryset(self, request, queryset):
        actor = actor_of_request(request)
        for webhook in queryset.order_by("pk"):
            services.webhook_delete(webhook_id=webhook.pk, actor=actor)

    def response_add(self, request, obj, post_url_continue=None):
        """The new endpoint's secret, this once (never stored in a message or the session)."""
        obj = Webhook.objects.get(pk=obj.pk)
        context = admin_page_context(
            request,
            self,
            title="Webhook created",
            webhook=obj,
            change_url=self.admin_url("change", obj.pk),
            list_url=self.admin_url("changelist"),
            media=self.media,
        )
        response = TemplateResponse(request, "admin/labelhub/webhook_secret.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Redeliver the failed deliveries of the selected webhooks")
    def redeliver_failed(self, request, queryset):
        count = 0
        for webhook in queryset:
            if not webhook.active:
                messages.error(request, f"{webhook}: disabled; enable it first.")
                continue
            count += services.webhook_redeliver_failed(webhook_id=webhook.pk)
        messages.success(request, f"{count} failed deliveries sent again.")

    @admin.action(description="Enable the selected webhooks (their failure count starts again)")
    def enable(self, request, queryset):
        self.run_per_row(
            request,
            queryset,
            lambda webhook: services.webhook_update(
                webhook_id=webhook.pk, active=True, actor=actor_of_request(request)
            ),
            done="Enabled {count} webhook(s).",
        )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("date", "address", "status_code", "error", "duration", "response_excerpt")
    readonly_fields = fields
    ordering = ("pk",)

    @admin.display(description="took")
    def duration(self, obj) -> str:
        return duration_text(obj.duration_ms / 1000)

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_staff)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(AdminBase, ImageAdminAccess, admin.ModelAdmin):
    list_display = (
        "id",
        "event_type",
        "event_uid",
        "webhook",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "date_created",
    )
    list_filter = ("status", "event__type")
    list_select_related = ("event", "webhook")
    search_fields = ("event__uid", "webhook__url")
    fields = (
        "event_uid",
        "event_type",
        "webhook",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "date_created",
        "date_done",
        "payload",
    )
    readonly_fields = fields
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_change_permission(self, request, obj=None):
        return False  # read-only: the redeliver action changes a delivery

    def has_add_permission(self, request):
        return False

    @admin.display(description="event")
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description="webhook-id")
    def event_uid(self, obj):
        return obj.event.uid

    @admin.display(description="payload")
    def payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(json.loads(obj.event.payload), indent=2))

    def row_title(self, obj) -> str:
        return f"Delivery {obj.pk}"

    @admin.action(description="Redeliver the selected deliveries now")
    def redeliver(self, request, queryset):
        self.run_per_row(
            request,
            queryset,
            lambda delivery: services.webhook_delivery_redeliver(delivery_id=delivery.pk),
            done="{count} deliveries sent again.",
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(AdminBase, ImageAdminAccess, admin.ModelAdmin):
    list_display = ("id", "type", "uid", "date_created")
    list_filter = ("type",)
    search_fields = ("uid",)
    fields = ("uid", "type", "date_created", "pretty_payload")
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    @admin.display(description="payload")
    def pretty_payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(json.loads(obj.payload), indent=2))
