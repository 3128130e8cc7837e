from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def normalize_email(email: str) -> str:
    """E-mail is the identifier and is compared case-insensitively: store it lowercased."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=normalize_email(email), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email: str) -> User:
        return self.get(email=normalize_email(email))


class User(AbstractBaseUser, PermissionsMixin):
    """A person or agency. Staff users are image-admins; others are labelers.

    A labeler's access is granted per campaign (``Campaign.labelers``).
    """

    class Role(models.TextChoices):
        IMAGE_ADMIN = "image-admin", "Image admin"
        LABELER = "labeler", "Labeler"

    email = models.EmailField("e-mail address", unique=True)
    is_staff = models.BooleanField(
        "image-admin",
        default=False,
        help_text="Image-admins use every API endpoint and the admin site.",
    )
    is_active = models.BooleanField(default=True, help_text="Unset to disable the user and every key of theirs.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def role(self) -> str:
        return self.Role.IMAGE_ADMIN if self.is_staff else self.Role.LABELER

    @property
    def is_image_admin(self) -> bool:
        return bool(self.is_active and self.is_staff)


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """The two-part API key: ``key`` identifies, ``secret_hash`` proves.

    Only a keyed hash of the secret is stored; the secret is shown once.
    A user has at most one unrevoked key.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    key = models.CharField(max_length=32, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(revoked_at__isnull=True),
                name="accounts_apikey_one_unrevoked_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class AuditEvent(models.Model):
    """One staff or system action: who (user and key, or the system), what, on which object, with a few details.

    Written in the same transaction as the action (``accounts.audit.audit_record``).
    ``actor`` keeps the actor's e-mail (or ``system``) after the user is gone.
    """

    SYSTEM = "system"

    date = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    actor = models.CharField(max_length=254, default=SYSTEM)
    actor_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, blank=True, default="")
    target = models.CharField(max_length=255, blank=True, default="", help_text="The target as it was named then.")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="accounts_audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target_type} {self.target_id}"


class ImageFetchCount(models.Model):
    """How many image files an API key fetched on one day (one row per key and day, not one per fetch)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="fetch_counts")
    day = models.DateField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "api_key"]
        constraints = [models.UniqueConstraint(fields=["api_key", "day"], name="accounts_fetch_count_unique")]

    def __str__(self) -> str:
        return f"{self.api_key_id} on {self.day}: {self.count}"


class AuthBlock(models.Model):
    """A client address or key id refused (429) until ``until``: its failed API-key authentications filled a window.

    Written by ``accounts.throttling`` when a failure fills the window (the
    counting itself is in the cache); read by the API-key lookup itself
    (``accounts.authentication``), so a successful request pays no cache
    round trip. Expired rows are deleted when the next block is written.
    """

    class Kind(models.TextChoices):
        ADDRESS = "address"
        KEY = "key"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The address as counted (an IPv6 client as its /64), or the key id as sent (longer ones are never blocked by id).
    value = models.CharField(max_length=64)
    until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="accounts_authblock_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value} until {self.until:%Y-%m-%d %H:%M:%S}"
