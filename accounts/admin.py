import csv
import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.audit import Actor, audit_record
from accounts.models import ApiKey, AuditEvent, ImageFetchCount, User, normalize_email
from accounts.selectors import user_find, user_has_unrevoked_key
from accounts.services import (
    USER_FLAGS,
    IssuedKey,
    apikey_issue,
    apikey_revoke,
    apikey_rotate,
    user_promote_staff_check,
    user_set_flags,
)
from core.admin import (
    AdminBase,
    ExtraView,
    FormPage,
    ImageAdminAccess,
    ReadOnlyAdminMixin,
    ShownSecret,
    render_secrets_page,
)
from core.exceptions import ApplicationError
from core.spreadsheet import spreadsheet_text

NO_SECRET_NOTE = (
    "This user already has a key; its secret is stored only as a hash and cannot be shown. "
    "Rotate the key for a new secret."
)


def show_secrets(request, model_admin, issued_keys: list[tuple[User, IssuedKey]], *, title: str):
    """The page answering an issue/rotate: each new secret shown this once.

    The messages are rendered on this very page, so they are consumed here
    and never stored in the session or a cookie for a later page.
    """
    rows = []
    for user, issued in issued_keys:
        if issued.secret:
            messages.warning(
                request,
                f"{user.email}: key {issued.apikey} secret {issued.secret} — copy it now, it is shown only this once.",
            )
        else:
            messages.info(request, f"{user.email} already has key {issued.apikey}; rotate it for a new secret.")
        rows.append(ShownSecret(owner=user.email, apikey=issued.apikey, secret=issued.secret, note=NO_SECRET_NOTE))
    return render_secrets_page(
        request,
        model_admin,
        title=title,
        rows=rows,
        links=[(reverse("admin:accounts_apikey_changelist"), "All API keys")],
    )


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ("key", "created_at", "rotated_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "is_staff")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean(self):
        data = super().clean()
        if data.get("is_staff") and not self.instance.is_staff:
            # The admin's change page is one transaction: the locks taken here hold until the save.
            try:
                user_promote_staff_check(user=self.instance)
            except ApplicationError as exc:
                self.add_error("is_staff", exc.detail)
        return data


@admin.register(User)
class UserAdmin(AdminBase, DjangoUserAdmin):
    add_form = UserCreationForm
    form = UserEditForm
    ordering = ("email",)
    list_display = ("email", "role", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_active")
    search_fields = ("email",)
    readonly_fields = ("date_joined", "last_login")
    inlines = [ApiKeyInline]
    actions = ["issue_key", "rotate_key"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Role", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("date_joined", "last_login")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "is_staff", "usable_password", "password1", "password2")}),
    )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            audit_record(
                actor=Actor.of_request(request),
                action="user.create",
                target=obj,
                details={"is_staff": obj.is_staff, "is_superuser": obj.is_superuser},
            )
            return
        # The flags go through the service first, while the row still holds their old values: it audits
        # each change from and to, and disables a deactivated user's webhooks. The form saves the rest.
        user_set_flags(user=obj, actor=Actor.of_request(request), **{name: getattr(obj, name) for name in USER_FLAGS})
        super().save_model(request, obj, form, change)

    @admin.display(description="role")
    def role(self, obj):
        return User.Role(obj.role).label

    @admin.action(description="Issue an API key (secret shown once)")
    def issue_key(self, request, queryset):
        return show_secrets(
            request,
            self,
            [(u, apikey_issue(user=u, actor=Actor.of_request(request))) for u in queryset],
            title="API keys issued",
        )

    @admin.action(description="Rotate the API key secret (old secret stops working)")
    def rotate_key(self, request, queryset):
        return show_secrets(
            request,
            self,
            [(u, apikey_rotate(user=u, actor=Actor.of_request(request))) for u in queryset],
            title="API keys rotated",
        )


class ApiKeyCreateForm(forms.Form):
    email = forms.EmailField(
        label="User e-mail",
        help_text="An existing user (an image-admin or an agency). A user has at most one active key.",
    )

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        user = user_find(email=email)
        if user is None:
            raise forms.ValidationError(
                "No user has this e-mail. Add the user first, or create a campaign for an agency."
            )
        if user_has_unrevoked_key(user=user):
            raise forms.ValidationError(
                "This user already has an active key: rotate it (action on the key list) or revoke it first."
            )
        self.user = user
        return email


@admin.register(ApiKey)
class ApiKeyAdmin(AdminBase, admin.ModelAdmin):
    list_display = ("key", "user", "created_at", "expires_at", "revoked_at", "last_used_at", "active")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("key", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("key", "user", "created_at", "rotated_at", "revoked_at", "last_used_at")
    fields = ("key", "user", "created_at", "rotated_at", "expires_at", "revoked_at", "last_used_at")
    actions = ["rotate", "revoke"]
    create_form = ApiKeyCreateForm
    create_page = FormPage(
        title="Add API key", submit="Issue the key", intro="The new key's secret is shown once, on the next page."
    )

    @admin.display(boolean=True, description="active")
    def active(self, obj):
        return obj.revoked_at is None and not obj.is_expired(timezone.now())

    def has_delete_permission(self, request, obj=None):
        return False

    def create(self, request, form):
        """Issue a key to an existing user; the answer shows its secret this once."""
        issued = apikey_issue(user=form.user, actor=Actor.of_request(request))
        return issued.api_key, show_secrets(request, self, [(form.user, issued)], title="API key issued")

    def row_title(self, obj) -> str:
        return obj.key

    @admin.action(description="Rotate: a new secret for each selected key (old secret stops working)")
    def rotate(self, request, queryset):
        issued = []
        for api_key in queryset.select_related("user"):
            if api_key.revoked_at is not None:
                messages.error(request, f"{api_key.key}: a revoked key cannot be rotated; issue a new key instead.")
                continue
            issued.append((api_key.user, apikey_rotate(user=api_key.user, actor=Actor.of_request(request))))
        if not issued:
            return None
        return show_secrets(request, self, issued, title="API keys rotated")

    @admin.action(description="Revoke selected keys (cannot be undone)")
    def revoke(self, request, queryset):
        self.run_per_row(
            request,
            queryset,
            lambda api_key: apikey_revoke(api_key=api_key, actor=Actor.of_request(request)),
            done="Revoked {count} key(s).",
        )


AUDIT_CSV_COLUMNS = ("date", "actor", "actor_key", "action", "target_type", "target_id", "target", "details")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, ImageAdminAccess, AdminBase, admin.ModelAdmin):
    list_display = ("date", "actor", "action", "target_type", "target_id", "target", "details_short")
    list_filter = ("action", "target_type", ("actor_user", admin.EmptyFieldListFilter))
    search_fields = ("actor", "target", "target_id", "action")
    date_hierarchy = "date"
    list_select_related = ("actor_key",)
    readonly_fields = ("date", "actor", "actor_user", "actor_key", "action", "target_type", "target_id", "target")
    fields = (*readonly_fields, "details_pretty")
    extra_views = (ExtraView("csv/", "csv_view", "csv", methods=("GET", "HEAD")),)
    change_list_template = "admin/accounts/auditevent/change_list.html"

    @admin.display(description="details")
    def details_short(self, obj):
        text = json.dumps(obj.details, sort_keys=True)
        return text if len(text) <= 120 else text[:117] + "..."

    @admin.display(description="details")
    def details_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.details, indent=2, sort_keys=True))

    def csv_view(self, request):
        """The list as shown (its filters, search and date drill-down), every row, streamed as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = changelist.get_queryset(request).order_by("date", "pk")

        def lines():
            buffer = _CsvBuffer()
            writer = csv.writer(buffer, lineterminator="\n")
            yield writer.writerow(AUDIT_CSV_COLUMNS)
            for event in rows.iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        event.date.isoformat(),
                        spreadsheet_text(event.actor),
                        event.actor_key.key if event.actor_key_id else "",
                        event.action,
                        event.target_type,
                        event.target_id,
                        spreadsheet_text(event.target),
                        json.dumps(event.details, sort_keys=True),
                    ]
                )

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response


class _CsvBuffer:
    """``csv.writer`` target that hands each written line back."""

    def write(self, value: str) -> str:
        return value


@admin.register(ImageFetchCount)
class ImageFetchCountAdmin(ReadOnlyAdminMixin, ImageAdminAccess, AdminBase, admin.ModelAdmin):
    list_display = ("day", "api_key", "agency", "count")
    list_filter = ("day",)
    search_fields = ("api_key__key", "api_key__user__email")
    date_hierarchy = "day"
    list_select_related = ("api_key__user",)

    @admin.display(description="agency", ordering="api_key__user__email")
    def agency(self, obj):
        return obj.api_key.user.email
