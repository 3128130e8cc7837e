"""The two-header API key authentication of the contract."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import connections
from django.db.models import Field
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiKey, User
from accounts.services import apikey_touch, secret_matches
from accounts.throttling import KEY_MAX_LENGTH, auth_failure_record, auth_failures_check
from labelhub import metrics
from labelhub.exceptions import UNAUTHORIZED_DETAIL

KEY_HEADER = "Authentication-Key"
SECRET_HEADER = "Authentication-Secret"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authentication-Key`` + ``Authentication-Secret``.

    No headers at all: not authenticated (the permission answers 401). Any
    header present but wrong, an unknown, revoked or expired key, or a disabled
    user: 401, counted against the client's address and the key id named
    (``accounts.throttling``); past the limit: 429. One query per request
    (the key joined with its user), plus one cache read.
    """

    def authenticate(self, request):
        key = request.headers.get(KEY_HEADER)
        secret = request.headers.get(SECRET_HEADER)
        if key is None and secret is None:
            return None
        # Checked before the key is looked up: a blocked guesser costs one cache read, and learns nothing.
        auth_failures_check(request, key=key)
        try:
            return self._authenticate_credentials(request, key, secret)
        except exceptions.AuthenticationFailed:
            auth_failure_record(request, key=key)
            raise

    def _authenticate_credentials(self, request, key: str | None, secret: str | None):
        if not key or not secret:
            raise _failed("missing_header")
        key = key.strip()
        if len(key) > KEY_MAX_LENGTH:
            raise _failed("malformed_key")
        api_key = unrevoked_key_with_user(key)
        now = timezone.now()
        # The client hears one answer for all of these; the metric tells the operator which.
        if api_key is None:
            raise _failed("unknown_key")
        if not secret_matches(secret.strip(), api_key.secret_hash):
            raise _failed("wrong_secret")
        if api_key.is_expired(now):
            raise _failed("expired_key")
        if not api_key.user.is_active:
            raise _failed("inactive_user")
        apikey_touch(api_key=api_key, now=now)
        # For the request log line (labelhub.middleware), which sees the Django request, not DRF's.
        getattr(request, "_request", request).api_key_id = api_key.pk
        return api_key.user, api_key

    def authenticate_header(self, request):
        return f'{KEY_HEADER} realm="api"'


def _failed(reason: str) -> exceptions.AuthenticationFailed:
    metrics.auth_failure(reason)
    return exceptions.AuthenticationFailed(UNAUTHORIZED_DETAIL)


@dataclass(frozen=True)
class _KeyLookup:
    sql: str
    key_fields: list[Field]
    user_fields: list[Field]
    # Per selected column: the database converters the ORM would apply, and their expression.
    converters: list[tuple[list, object]]


@cache
def _key_lookup(alias: str) -> _KeyLookup:
    """``ApiKey.objects.select_related("user").filter(key=..., revoked_at__isnull=True)``, compiled once.

    Every API request looks its key up: the SQL is built once per process
    and database, which spares the ORM's query compilation on each request
    (about 0.5 ms of CPU; the goal is an authenticated page within 3x of a
    401). The rows still become model instances through the same converters
    and ``from_db`` the ORM uses.
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    key_fields, user_fields = list(ApiKey._meta.concrete_fields), list(User._meta.concrete_fields)
    columns = [("k", f) for f in key_fields] + [("u", f) for f in user_fields]
    key_column = ApiKey._meta.get_field
    sql = (
        f"SELECT {', '.join(f'{table}.{quote(f.column)}' for table, f in columns)} "
        f"FROM {quote(ApiKey._meta.db_table)} k "
        f"JOIN {quote(User._meta.db_table)} u "
        f"ON u.{quote(User._meta.pk.column)} = k.{quote(key_column('user').column)} "
        f"WHERE k.{quote(key_column('key').column)} = %s AND k.{quote(key_column('revoked_at').column)} IS NULL"
    )
    converters = []
    for _, field in columns:
        expression = field.get_col(field.model._meta.db_table)
        converters.append(
            (connection.ops.get_db_converters(expression) + field.get_db_converters(connection), expression)
        )
    return _KeyLookup(sql=sql, key_fields=key_fields, user_fields=user_fields, converters=converters)


def unrevoked_key_with_user(key: str, *, using: str = "default") -> ApiKey | None:
    """The unrevoked API key ``key`` with its user loaded, in one query; ``None`` if there is none."""
    if "\x00" in key:
        return None  # names no key (and PostgreSQL refuses NUL in text)
    lookup = _key_lookup(using)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(lookup.sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (converters, expression) in zip(row, lookup.converters, strict=False):
        for converter in converters:
            value = converter(value, expression, connection)
        values.append(value)
    split = len(lookup.key_fields)
    api_key = ApiKey.from_db(using, [f.attname for f in lookup.key_fields], values[:split])
    api_key.user = User.from_db(using, [f.attname for f in lookup.user_fields], values[split:])
    return api_key
