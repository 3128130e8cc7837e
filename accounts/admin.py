from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils import timezone

from accounts.models import ApiKey, User
from accounts.services import apikey_issue, apikey_revoke, apikey_rotate
from labelhub.exceptions import ApplicationError


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


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "is_staff", "usable_password", "password1", "password2")}),)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description="role")
    def role(self, obj):
        return User.Role(obj.role).label

    def _show_secrets(self, request, issued_keys):
        for user, issued in issued_keys:
            if issued.secret:
                messages.warning(
                    request,
                    f"{user.email}: key {issued.apikey} secret {issued.secret} "
                    "— copy it now, it is shown only this once.",
                )
            else:
                messages.info(request, f"{user.email} already has key {issued.apikey}; rotate it for a new secret.")

    @admin.action(description="Issue an API key (secret shown once)")
    def issue_key(self, request, queryset):
        self._show_secrets(request, [(u, apikey_issue(user=u)) for u in queryset])

    @admin.action(description="Rotate the API key secret (old secret stops working)")
    def rotate_key(self, request, queryset):
        self._show_secrets(request, [(u, apikey_rotate(user=u)) for u in queryset])


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "created_at", "expires_at", "revoked_at", "last_used_at", "active")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("key", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("key", "user", "created_at", "rotated_at", "revoked_at", "last_used_at")
    fields = ("key", "user", "created_at", "rotated_at", "expires_at", "revoked_at", "last_used_at")
    actions = ["revoke"]

    @admin.display(boolean=True, description="active")
    def active(self, obj):
        return obj.revoked_at is None and not obj.is_expired(timezone.now())

    def has_add_permission(self, request):
        # Keys are issued from the user page (or createapikey), where the secret is shown once.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke selected keys (cannot be undone)")
    def revoke(self, request, queryset):
        done = 0
        for api_key in queryset:
            try:
                apikey_revoke(api_key=api_key)
                done += 1
            except ApplicationError as exc:
                messages.error(request, f"{api_key.key}: {exc.detail}")
        if done:
            messages.success(request, f"Revoked {done} key(s).")
