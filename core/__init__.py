"""What every app may import, and which imports no app: the bottom of labelhub's dependency chain.

The contract's errors and exception handler (``exceptions``), the JSON input
layer (``parsers``, ``negotiation``), shared validators and serializer
fields, pagination, the OpenAPI pieces views share (``openapi``), the admin
base (``admin``), the background job lifecycle (``jobs``), metrics, logging,
error reports, the cache backends, the client address behind proxies, the
audit hook, spreadsheet-safe cells. An app of its own (``core``) only for its
admin templates and static files; it has no tables (``jobs.Job`` is abstract).
"""
