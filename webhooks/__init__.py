"""Webhooks: signed, retried, logged notifications of what happens to image sets, campaigns and exports.

Below every domain app (only ``integrations`` and ``core`` are lower), so every app can emit:
``webhook_event_record(type=..., data=..., campaign_user_ids=[...])`` inside
the transaction of the change writes the event and one delivery per
subscribed, active endpoint of an active owner (the outbox), with the body
each audience may see (an agency gets its API's view of a campaign); after
the commit each delivery is handed to django-q2's webhook queue
(``settings.WEBHOOKS_QUEUE``, a cluster of its own, so deliveries never wait
in line with, nor hold a worker of, the finish and export jobs). An attempt
holds its endpoint (one attempt at a time per endpoint), signs the body as
Standard Webhooks says (``webhook-id``, ``webhook-timestamp``,
``webhook-signature`` v1), connects only to a public address it checked
(``network``), and is logged (``WebhookAttempt``); a failure is retried on
``WEBHOOKS_RETRY_SCHEDULE`` by the sweep every webhook worker runs
(``sweep.start_webhook_sweeper``), which also hands over deliveries whose
hand-over was lost and deletes events past ``WEBHOOKS_RETENTION_DAYS``. An
endpoint failing (or answering slower than ``WEBHOOKS_SLOW_AFTER``)
``WEBHOOKS_DISABLE_AFTER_FAILURES`` times in a row is disabled, with the reason.

The event types are in ``events.py`` (one line each). This package imports
no app above it (``.importlinter``): users are ``settings.AUTH_USER_MODEL``.
"""
