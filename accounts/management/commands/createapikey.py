import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from accounts.audit import Actor
from accounts.models import normalize_email
from accounts.services import (
    AgencyAccessConflict,
    apikey_issue,
    apikey_rotate,
    user_get_or_create,
    user_promote_to_staff,
)


class Command(BaseCommand):
    help = (
        "Create (if needed) the user EMAIL and issue them an API key. The last line "
        'of stdout is {"email", "apikey", "apisecret"}; apisecret is null for an '
        "existing key unless --rotate is given. --admin refuses an agency account "
        "(one with an API key or campaigns) unless --revoke-agency-access is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--admin", action="store_true", help="make the user an image-admin")
        parser.add_argument("--rotate", action="store_true", help="issue a new secret for an existing key")
        parser.add_argument(
            "--revoke-agency-access",
            action="store_true",
            help="with --admin, for an agency account: revoke its API keys (its webhooks are disabled) and remove "
            "it from its campaigns before promoting it; the new image-admin key is issued afresh",
        )

    def handle(self, *args, email, admin, rotate, revoke_agency_access, **options):
        email = normalize_email(email)
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Not a valid e-mail address: {email!r}") from None
        if revoke_agency_access and not admin:
            raise CommandError("--revoke-agency-access goes with --admin: it is what promoting an agency takes")
        # The command runs as labelhub itself: no person or key is behind it to name in the audit trail.
        actor = Actor.system()
        with transaction.atomic():
            if admin:
                try:
                    user, created = user_promote_to_staff(
                        email=email, revoke_agency_access=revoke_agency_access, actor=actor
                    )
                except AgencyAccessConflict as exc:
                    raise CommandError(exc.detail) from None
            else:
                user, created = user_get_or_create(email=email)
            issued = apikey_rotate(user=user, actor=actor) if rotate else apikey_issue(user=user, actor=actor)
        if created:
            self.stderr.write(f"Created {user.role} {user.email}")
        if issued.secret is None:
            self.stderr.write("The user already has a key; its secret is not stored. Use --rotate for a new one.")
        self.stdout.write(json.dumps({"email": user.email, "apikey": issued.apikey, "apisecret": issued.secret}))
