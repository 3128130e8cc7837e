import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.models import normalize_email
from accounts.services import apikey_issue, apikey_rotate, user_get_or_create


class Command(BaseCommand):
    help = (
        "Create (if needed) the user EMAIL and issue them an API key. The last line "
        'of stdout is {"email", "apikey", "apisecret"}; apisecret is null for an '
        "existing key unless --rotate is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--admin", action="store_true", help="make the user an image-admin")
        parser.add_argument("--rotate", action="store_true", help="issue a new secret for an existing key")

    def handle(self, *args, email, admin, rotate, **options):
        email = normalize_email(email)
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Not a valid e-mail address: {email!r}") from None
        user, created = user_get_or_create(email=email, is_staff=admin)
        issued = apikey_rotate(user=user) if rotate else apikey_issue(user=user)
        if created:
            self.stderr.write(f"Created {user.role} {user.email}")
        if issued.secret is None:
            self.stderr.write("The user already has a key; its secret is not stored. Use --rotate for a new one.")
        self.stdout.write(json.dumps({"email": user.email, "apikey": issued.apikey, "apisecret": issued.secret}))
