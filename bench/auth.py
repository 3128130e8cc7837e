"""Cost of one API-key check (labelhub) against one bcrypt check at cost 12.

    .venv/bin/python bench/auth.py [--rounds 2000] [--bcrypt-rounds 20]

Runs on a throwaway SQLite database. Prints the medians and the ratio; the
goal is that labelhub's full authentication (the key lookup query included)
is at least 100x cheaper than the bcrypt check the original ran per request.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def median_seconds(fn, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2000, help="labelhub checks to time")
    parser.add_argument("--bcrypt-rounds", type=int, default=20, help="bcrypt checks to time")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="labelhub-bench-auth-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.settings")

    import django

    django.setup()
    import bcrypt
    from django.core.management import call_command
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from accounts.authentication import ApiKeyAuthentication
    from accounts.models import User
    from accounts.services import apikey_issue, secret_matches

    call_command("migrate", verbosity=0)
    user = User.objects.create_user(email="bench@example.com", is_staff=True)
    issued = apikey_issue(user=user)
    auth = ApiKeyAuthentication()
    factory = APIRequestFactory()
    django_request = factory.get(
        "/api/v1/images", HTTP_AUTHENTICATION_KEY=issued.apikey, HTTP_AUTHENTICATION_SECRET=issued.secret
    )

    def ours_full():
        assert auth.authenticate(Request(django_request))[0].pk == user.pk

    def ours_hash_only():
        assert secret_matches(issued.secret, issued.api_key.secret_hash)

    hashed = bcrypt.hashpw(issued.secret.encode(), bcrypt.gensalt(rounds=12))

    def bcrypt_check():
        assert bcrypt.checkpw(issued.secret.encode(), hashed)

    ours_full()  # warm up connection and caches
    full = median_seconds(ours_full, args.rounds)
    hash_only = median_seconds(ours_hash_only, args.rounds)
    slow = median_seconds(bcrypt_check, args.bcrypt_rounds)

    print(
        f"labelhub authenticate (key lookup query + HMAC-SHA256): median {full * 1e6:9.1f} us  ({args.rounds} rounds)"
    )
    print(
        f"labelhub secret check alone (HMAC-SHA256 + compare):   median {hash_only * 1e6:9.1f} us  ({args.rounds} rounds)"
    )
    print(
        f"bcrypt checkpw, cost 12:                               median {slow * 1e6:9.1f} us  ({args.bcrypt_rounds} rounds)"
    )
    print(f"ratio bcrypt / labelhub authenticate: {slow / full:,.0f}x  (goal >= 100x)")
    print(f"ratio bcrypt / secret check alone:    {slow / hash_only:,.0f}x")


if __name__ == "__main__":
    main()
