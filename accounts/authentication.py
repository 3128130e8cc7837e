"""The two-header API key authentication of the contract."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import connections
from django.db.models import Field
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiKey, AuthBlock, User
from accounts.services import apikey_touch, secret_matches
from accounts.throttling import (
    address_ident,
    auth_block_check,
    auth_block_until,
    auth_failure_record,
    key_ident,
)
from core import metrics
from core.exceptions import UNAUTHORIZED_DETAIL

KEY_HEADER = "Authentication-Key"
SECRET_HEADER = "Authentication-Secret"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authentication-Key`` + ``Authentication-Secret``.

    No headers at all: not authenticated (the permission answers 401). Any
    header present but wrong, an unknown, revoked or expired key, or a disabled
    user: 401, counted against the client's address and the key id named
    (``accounts.throttling``); past the limit: 429. One query per request
    (the key joined with its user, and whether the address or key is blocked)
    and no cache read. Only a failure touches the cache (to count), and one
    whose key was not found reads the blocks with a small query of its own.
    """

    def authenticate(self, request):
        key = request.headers.get(KEY_HEADER)
        secret = request.headers.get(SECRET_HEADER)
        if key is None and secret is None:
            return None
        address, key_id = address_ident(request), key_ident(key)
        api_key = unrevoked_key_with_user(key_id, address=address) if key_id and secret else None
        # A blocked client is refused before its secret is compared (and learns nothing); that is no new failure.
        blocked_until = api_key.blocked_until if api_key is not None else auth_block_until(address=address, key=key_id)
        now = timezone.now()
        auth_block_check(blocked_until, now=now)
        try:
            return self._authenticate_credentials(request, api_key, key, secret, now)
        except exceptions.AuthenticationFailed:
            auth_failure_record(address=address, key=key_id)
            raise

    def _authenticate_credentials(self, request, api_key: ApiKey | None, key: str | None, secret: str | None, now):
        if not key or not secret:
            raise _failed("missing_header")
        if not key_ident(key):
            raise _failed("malformed_key")
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

    One more column, as ``.annotate(blocked_until=Subquery(...))`` would add
    it: the latest end of the blocks (``AuthBlock``) on this key id or on the
    client's address. The throttle's block state rides on the lookup every
    request makes anyway, so a successful request reads no cache
    (``accounts.throttling``).
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    key_fields, user_fields = list(ApiKey._meta.concrete_fields), list(User._meta.concrete_fields)
    block_until = AuthBlock._meta.get_field("until")
    columns = [("k", f) for f in key_fields] + [("u", f) for f in user_fields] + [(None, block_until)]
    key_column, block_column = ApiKey._meta.get_field, AuthBlock._meta.get_field
    kind, value = quote(block_column("kind").column), quote(block_column("value").column)
    blocked_until = (
        f"(SELECT MAX(b.{quote(block_until.column)}) FROM {quote(AuthBlock._meta.db_table)} b "
        f"WHERE (b.{kind} = %s AND b.{value} = %s) OR (b.{kind} = %s AND b.{value} = %s))"
    )
    sql = (
        f"SELECT {', '.join(f'{table}.{quote(f.column)}' for table, f in columns if table)}, {blocked_until} "
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


def unrevoked_key_with_user(key: str, *, address: str, using: str = "default") -> ApiKey | None:
    """The unrevoked API key ``key`` with its user loaded, in one query; ``None`` if there is none.

    Its ``blocked_until``: when the throttle's block on key id ``key`` or on
    ``address`` (``accounts.throttling.address_ident``) ends, ``None`` if
    neither is blocked (nor was lately).
    """
    if "\x00" in key:
        return None  # names no key (and PostgreSQL refuses NUL in text)
    lookup = _key_lookup(using)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(lookup.sql, [AuthBlock.Kind.KEY.value, key, AuthBlock.Kind.ADDRESS.value, address, key])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (converters, expression) in zip(row, lookup.converters, strict=True):
        for converter in converters:
            value = converter(value, expression, connection)
        values.append(value)
    split, end = len(lookup.key_fields), len(lookup.key_fields) + len(lookup.user_fields)
    api_key = ApiKey.from_db(using, [f.attname for f in lookup.key_fields], values[:split])
    api_key.user = User.from_db(using, [f.attname for f in lookup.user_fields], values[split:end])
    api_key.blocked_until = values[end]
    return api_key
