"""schemathesis fuzzes every operation of /api/v1/schema against a live labelhub over HTTP.

Once with an image-admin key and once with a labeler key, every operation gets the
explicit examples, the coverage cases (boundaries, wrong types, missing fields, wrong
methods and media types) and ``MAX_EXAMPLES`` fuzzed requests per generation mode
(valid and invalid), derandomized from a fixed seed; then an image-admin follows the
schema's links (create -> read, finish, add images, ...). Every response must be no
5xx, have a documented status code, content type and body; a request the schema calls
invalid must be refused (400/401/404/409/413/415/422), and one it calls valid must not be,
except by the rules a JSON Schema cannot state (``DOCUMENTED_RULES``: one field against
another, or against what is stored), each documented in the operation's answers.

Then every operation taking a JSON body gets hostile bodies built from valid ones
(``test_hostile_json_bodies_are_refused_with_no_5xx``): a lone surrogate in a string or
an object key (escaped, and raw in the UTF-8 bytes), nesting past ``JSON_MAX_DEPTH`` (to
thousands of levels, past Python's recursion limit) and bodies over
``DATA_UPLOAD_MAX_MEMORY_SIZE``. Each must be the
input layer's 400 or 413 with the JSON error body, nothing stored, every list still
answering.

What the fuzz found is kept as ordinary regression tests with the tests of the module that
was wrong (the apps' ``tests/test_apis.py``; ``labelhub/tests/test_views.py``,
``test_pagination.py``, ``test_schema.py``), each with a comment naming the fuzz.
"""

from __future__ import annotations

import collections
import copy
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import timedelta

import hypothesis
import pytest
import requests
import schemathesis
from django.conf import settings
from django.core.management import call_command
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import apikey_issue
from accounts.tests.factories import UserFactory
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory, CampaignImageFactory, CampaignLabelerFactory
from imagesets.tests import samples
from imagesets.tests.factories import ImageFactory, ImageSetFactory
from integrations.storage import get_storage
from testing.api import NoKeepAliveSession
from webhooks.services import webhook_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SEED = int(os.environ.get("FUZZ_SEED", 20261126))
# CI runs 25 per operation; a deeper exploratory run: FUZZ_MAX_EXAMPLES=500 FUZZ_SEED=<n>.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", 25))
STATEFUL_SCENARIOS = 15
STATEFUL_STEPS = 6


@dataclass(frozen=True)
class Rule:
    """A refusal of a request the schema calls valid: its status, the start of its detail, and why."""

    status: int
    detail: str  # a regular expression matched at the start of the answer's "detail"
    why: str


_BOX_ORDER = Rule(
    422,
    r"Image -?\d+, object \d+: 'bounding_box\.\w+' must not be greater than",
    "xmin <= xmax, ymin <= ymax: one field against another",
)
_BOX_INSIDE = Rule(
    422,
    r"Image -?\d+, object \d+: the bounding box lies outside the image",
    "the image's size is stored, not in the request",
)
_LABEL_SCHEMA = Rule(
    422,
    r"Image -?\d+, object \d+: label .* is not one of the campaign's labels",
    "the campaign's labels are stored, not in the request",
)
_IMAGE_TWICE = Rule(
    400, r"Image -?\d+ is listed more than once", "uniqueItems compares whole items, not their image_id"
)
_JSON_NUL = Rule(
    400,
    r"'(metadata|label_translations)' must not contain NUL characters",
    "OpenAPI 3.0 has no propertyNames: no schema can keep a NUL out of the keys of free-form JSON "
    "(PostgreSQL stores none)",
)
_WEBHOOK_URL = Rule(
    422,
    r"'url'",
    "an https URL whose host resolves to public addresses only: known by resolving it, not from the URL's text",
)
_SINCE_AFTER_UNTIL = Rule(422, r"'since' must not be after 'until'", "since after until: two parameters")
_STAFF_EVENT = Rule(
    422, r"'events': '[^']+' is for staff endpoints only", "which events a key may receive depends on its role"
)
# The rules the fuzz may meet that the schema cannot state, by operation: each is documented
# in the operation's answers (a 400 or 422 with an example). Any other refusal of a request
# the schema calls valid fails the test: the schema must then say what the code accepts.
DOCUMENTED_RULES: dict[str, list[Rule]] = {
    "GET /images": [
        Rule(
            400,
            r"(date_taken_from|lat_min) must not be (later|greater) than",
            "a lower bound above the upper one: two parameters",
        ),
    ],
    "GET /campaigns/{campaign_id}/stats": [_SINCE_AFTER_UNTIL],
    "POST /image_sets": [_JSON_NUL],
    "POST /campaigns": [
        _JSON_NUL,
        Rule(
            400,
            r"'label_translations' must map labels to labels of 1-\d+ characters; '.*' does not",
            "OpenAPI 3.0 has no propertyNames: the length of a key (a label) cannot be stated",
        ),
        Rule(
            422, r"'labels' item \d+: .* is listed more than once", "uniqueItems compares whole labels, not their names"
        ),
        Rule(
            400,
            r"'labels' must not contain NUL characters",
            "no string of the schema states that it holds no NUL (PostgreSQL stores none in text)",
        ),
        Rule(
            422,
            r"'labels' item \d+: 'name' must be 1-\d+ characters, not blank",
            "a name of white space only is blank: its length is checked once it is trimmed",
        ),
    ],
    "PUT /campaigns/{campaign_id}/objects": [_BOX_ORDER, _BOX_INSIDE, _LABEL_SCHEMA, _IMAGE_TWICE],
    "PUT /campaigns/{campaign_id}/predictions": [_BOX_ORDER, _BOX_INSIDE, _LABEL_SCHEMA, _IMAGE_TWICE],
    "PUT /campaigns/{campaign_id}/reviews": [
        Rule(
            422,
            r"Image -?\d+: a rejection needs a 'reason'",
            "decision rejected needs a reason: one field against another",
        ),
        _IMAGE_TWICE,
    ],
    "PUT /campaigns/{campaign_id}/gold": [_BOX_ORDER, _BOX_INSIDE, _LABEL_SCHEMA, _IMAGE_TWICE],
    "GET /campaigns/{campaign_id}/agreement": [
        Rule(422, r"'with' names campaign \d+ itself", "another campaign than the path's: two parameters"),
        _SINCE_AFTER_UNTIL,
    ],
    "GET /campaigns/{campaign_id}/annotators": [_SINCE_AFTER_UNTIL],
    "PUT /dropbox/{token}/{filename}": [
        Rule(
            400,
            r"Invalid file name: ",
            "a file name is checked by the storage's naming rules (no control characters, for one): "
            "documented as the operation's 400",
        ),
    ],
    "POST /webhooks": [_WEBHOOK_URL, _STAFF_EVENT],
    "PATCH /webhooks/{webhook_id}": [_WEBHOOK_URL, _STAFF_EVENT],
}
documented_rules_met: collections.Counter = collections.Counter()


def _documented_rule(case, response) -> Rule | None:
    try:
        detail = response.json()["detail"]
    except (ValueError, KeyError, TypeError):
        return None
    for rule in DOCUMENTED_RULES.get(case.operation.label, []):
        if response.status_code == rule.status and re.match(rule.detail, str(detail)):
            return rule
    return None


def positive_data_acceptance_but_documented_rules(ctx, response, case):
    """``positive_data_acceptance``, except a refusal by one of ``DOCUMENTED_RULES``."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        rule = _documented_rule(case, response)
        if rule is None:
            raise
        documented_rules_met[(case.operation.label, rule)] += 1
        return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance_but_documented_rules,
]

CONFIG = {
    "seed": SEED,
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    # Redirects are answers to check, not to follow: GET /images/{id} is a documented 303.
    "max-redirects": 0,
}

examples_run: collections.Counter = collections.Counter()
status_codes: collections.Counter = collections.Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_requests_sent(request):
    """After the module: how many requests the fuzz sent, and the status codes it got back."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not examples_run:  # e.g. an xdist worker
        return
    by_role: dict = collections.defaultdict(collections.Counter)
    for (role, _, code), count in status_codes.items():
        by_role[role][code] += count
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(f"schemathesis requests sent: {dict(sorted(examples_run.items()))}")
        for role, codes in sorted(by_role.items()):
            reporter.write_line(f"  {role}: status codes {dict(sorted(codes.items()))}")
        for (operation, rule), count in sorted(documented_rules_met.items(), key=lambda item: item[0][0]):
            reporter.write_line(f"  refused by a documented rule: {operation} {rule.status} x{count}")
            reporter.write_line(f"    {rule.detail!r}: {rule.why}")


@dataclass
class World:
    admin: dict
    labeler: dict
    ids: dict  # path parameter kind -> ids that exist


def _aim(case, world: World) -> None:
    """Point about half the examples whose path is valid at rows and files that exist.

    Generated ids and tokens hardly ever name a seeded row or a signed URL, so the
    bodies would never get past the 404/403. Where the path parameters were generated
    valid, an even id (or a token of even length) is replaced by a seeded one, picked by
    the generated value: which examples are aimed, and where, stays the generator's choice.
    Malformed path parameters (negative examples) are left as they are.
    """
    meta = case.meta
    if meta is None or meta.is_negative_at(ParameterLocation.PATH):
        return
    for name, value in case.path_parameters.items():
        if name == "token":
            kind = "dropbox_token" if case.path.startswith("/dropbox") else "file_token"
            pick = len(value) if isinstance(value, str) else None
        else:
            kind = _path_kind(case.path, name)
            pick = int(value) if str(value).isdigit() else None
        if kind and pick is not None and pick % 2 == 0:
            seeded = world.ids[kind]
            case.path_parameters[name] = seeded[pick // 2 % len(seeded)]


def _authenticate(case, headers: dict) -> None:
    """Send the role's key, unless the case is about the key headers (a 401 then, with its own)."""
    meta = case.meta
    if meta is not None and meta.generation.mode.is_negative and meta.is_negative_at(ParameterLocation.HEADER):
        return
    case.headers = {**(case.headers or {}), **headers}


def _headers(user) -> dict:
    issued = apikey_issue(user=user)
    return {"Authentication-Key": issued.apikey, "Authentication-Secret": issued.secret}


def _seed() -> World:
    """A small world the fuzz can hit: a set with images, campaigns in each status, both roles."""
    admin = UserFactory(email="fuzz-admin@example.com", is_staff=True)
    labeler = UserFactory(email="fuzz-agency@example.com")
    imageset = ImageSetFactory(title="fuzz-set", created_by=admin)
    images = [ImageFactory(imageset=imageset, width=200, height=100) for _ in range(3)]
    campaigns = []
    for status in [*Campaign.Status.values, "other"]:
        campaign = CampaignFactory(
            title=f"fuzz-{status}", status=status if status != "other" else Campaign.Status.ACTIVE, created_by=admin
        )
        if status != "other":  # the labeler's campaigns, and one of another agency
            CampaignLabelerFactory(campaign=campaign, user=labeler)
        for image in images:
            CampaignImageFactory(campaign=campaign, image=image)
        campaigns.append(campaign.pk)
    # A real dropbox to upload to, and a stored image file to read through a signed URL.
    storage = get_storage()
    storage.create_dropbox(imageset.blobstorage_path)
    dropbox_url = storage.dropbox_upload_url(
        imageset.blobstorage_path, key=imageset.dropbox_key, valid_for=timedelta(hours=1)
    )
    storage.write(images[0].blobstorage_path, [samples.png(200, 100)])
    read_url = storage.read_url(images[0].blobstorage_path, valid_for=timedelta(hours=1))
    # A staff and an agency webhook endpoint, inactive: the fuzz's changes send nothing anywhere.
    webhooks = [
        webhook_create(url="https://93.184.216.34/hook", events=["campaign.activated"], owner=owner, active=False).pk
        for owner in (None, labeler)
    ]
    return World(
        admin=_headers(admin),
        labeler=_headers(labeler),
        ids={
            "campaign": campaigns,
            "image": [image.pk for image in images],
            "imageset": [imageset.pk],
            "dropbox_token": [dropbox_url.rstrip("/").rsplit("/", 1)[-1]],
            "file_token": [read_url.rstrip("/").rsplit("/", 1)[-1]],
            "webhook": webhooks,
        },
    )


@pytest.fixture
def world(transactional_db, settings) -> World:
    settings.WEBHOOKS_TIMEOUT = 0.5  # an endpoint the fuzz enables must not hold a request for long
    # The fuzz sends requests missing a key header by the hundred; throttled, every later answer
    # would be a 429 and nothing else checked (the throttles have tests of their own).
    settings.API_AUTH_FAILURES_PER_ADDRESS = None
    settings.API_AUTH_FAILURES_PER_KEY = None
    return _seed()


def _reseed() -> World:
    """Back to the seeded world: empty database and storage, then ``_seed()`` again."""
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    os.makedirs(settings.MEDIA_ROOT)
    return _seed()


def _generated_schema() -> dict:
    """The document /api/v1/schema serves (test_the_fuzzed_schema_is_the_served_one checks that)."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


# Built at import (pytest-django has configured Django by then) so pytest collects one
# test per operation; the requests go to the live server given as base_url per call.
schema = schemathesis.openapi.from_dict(_generated_schema(), config=schemathesis.Config.from_dict(CONFIG))


@pytest.fixture
def base_url(live_server) -> str:
    return f"{live_server.url}/api/v1"


# The fixtures hold the seeded world for all examples of one operation: that is intended.
SHARED_FIXTURES = hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])


@schema.parametrize()
@SHARED_FIXTURES
def test_fuzz_as_image_admin(case, world, base_url):
    examples_run["image-admin"] += 1
    _aim(case, world)
    _authenticate(case, world.admin)
    response = case.call_and_validate(base_url=base_url, checks=CHECKS)
    status_codes[("image-admin", case.operation.label, response.status_code)] += 1


@schema.parametrize()
@SHARED_FIXTURES
def test_fuzz_as_labeler(case, world, base_url):
    examples_run["labeler"] += 1
    _aim(case, world)
    _authenticate(case, world.labeler)
    response = case.call_and_validate(base_url=base_url, checks=CHECKS)
    status_codes[("labeler", case.operation.label, response.status_code)] += 1


def test_stateful_links_as_image_admin(world, base_url):
    """An image-admin follows the links: create a set or campaign, then read, finish, fill it.

    (A labeler cannot create what the links lead from: its 401s are in test_fuzz_as_labeler.)
    """
    headers = dict(world.admin)

    class Machine(schema.as_state_machine()):
        def setup(self):
            # Every scenario starts from the same seeded world, so a scenario Hypothesis
            # replays meets the same answers (its links follow what the server answered).
            headers.update(_reseed().admin)

        def get_call_kwargs(self, case):
            return {"base_url": base_url, "headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            examples_run["image-admin (stateful steps)"] += 1
            case.validate_response(response, checks=CHECKS, headers=headers, transport_kwargs=kwargs)

    Machine.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )


def test_the_fuzzed_schema_is_the_served_one(live_server):
    served = requests.get(f"{live_server.url}/api/v1/schema", timeout=30).json()
    assert served == json.loads(OpenApiJsonRenderer().render(_generated_schema()))


# --- hostile JSON bodies -------------------------------------------------------------------

HOSTILE_EXAMPLES = int(os.environ.get("FUZZ_HOSTILE_EXAMPLES", 25))
# A small limit keeps oversized bodies cheap to send; the code path is the same for 10 MiB.
HOSTILE_BODY_LIMIT = 16 * 1024
# kind -> the status the input layer answers before any service runs.
HOSTILE_KINDS = {
    "surrogate-escaped": 400,
    "surrogate-raw-utf8": 400,
    "deep": 400,
    "very-deep": 400,
    "oversize": 413,
}
_SENTINEL = "__hostile__"


def _json_body_operations() -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for path, item in _generated_schema()["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "application/json" in operation.get("requestBody", {}).get("content", {})
    )


def _slots(body) -> list[tuple]:
    """Where a value can be put: ``(container, key)`` for every value, ``(dict, key, "key")`` for keys."""
    slots, pending = [], [body]
    while pending:
        node = pending.pop()
        pairs = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in pairs:
            slots.append((node, key))
            if isinstance(node, dict):
                slots.append((node, key, "key"))
            pending.append(value)
    return slots


def _hostile_body(body, kind: str, data) -> bytes:
    """A valid generated ``body`` turned hostile in one place chosen by ``data``."""
    body = {"body": copy.deepcopy(body)}  # a holder: the whole body is a slot too (its key is not)
    slots = [slot for slot in _slots(body) if slot[0] is not body or len(slot) == 2]
    if kind.startswith("surrogate"):
        lone = chr(data.draw(st.integers(0xD800, 0xDFFF), label="surrogate"))
        slot = data.draw(st.sampled_from(slots), label="where")
        container, key = slot[0], slot[1]
        if len(slot) == 3:  # in an object key
            position = data.draw(st.integers(0, len(key)))
            container[key[:position] + lone + key[position:]] = container.pop(key)
        elif isinstance(container[key], str):
            position = data.draw(st.integers(0, len(container[key])))
            container[key] = container[key][:position] + lone + container[key][position:]
        else:
            container[key] = data.draw(st.sampled_from([lone, [lone], {lone: 1}, {"k": lone}]))
        if kind == "surrogate-escaped":
            return json.dumps(body["body"]).encode()  # ensure_ascii: \udXXX escapes
        return json.dumps(body["body"], ensure_ascii=False).encode("utf-8", "surrogatepass")
    container, key = data.draw(st.sampled_from([s for s in slots if len(s) == 2]), label="where")
    inner = json.dumps(container[key])
    container[key] = _SENTINEL
    text = json.dumps(body["body"])
    if kind == "oversize":
        extra = data.draw(st.integers(1, HOSTILE_BODY_LIMIT), label="bytes over")
        padding = HOSTILE_BODY_LIMIT + extra - len(text) + len(_SENTINEL)
        if data.draw(st.booleans(), label="pad inside a string"):
            replacement = json.dumps("x" * max(padding, 0))
        else:
            replacement = inner + " " * max(padding - len(inner) + 2, 0)
    else:
        opening, closing = data.draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"a":', "}]")]), label="shape")
        if kind == "very-deep":  # as deep as fits under the size limit: past Python's recursion limit
            levels = (HOSTILE_BODY_LIMIT - len(text) - len(inner)) // (len(opening) + len(closing))
        else:
            levels = data.draw(st.integers(33, 300), label="levels")
        replacement = opening * levels + inner + closing * levels
    return text.replace(json.dumps(_SENTINEL), replacement, 1).encode()


def _path_kind(path: str, name: str) -> str | None:
    """Which seeded rows a path parameter names (``None``: none)."""
    if name == "id" and path.startswith("/campaigns"):
        return "campaign"
    return {
        "id": "image",
        "image_id": "image",
        "imageset_id": "imageset",
        "campaign_id": "campaign",
        "webhook_id": "webhook",
    }.get(name)


def _stored_counts() -> dict:
    from django.apps import apps

    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in ("accounts", "imagesets", "campaigns")
    }


@pytest.mark.parametrize("method, path", _json_body_operations())
def test_hostile_json_bodies_are_refused_with_no_5xx(world, base_url, settings, method, path):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = HOSTILE_BODY_LIMIT
    operation = schema[path][method.upper()]
    documented = set(_generated_schema()["paths"][path][method]["responses"])
    session = NoKeepAliveSession()  # a new connection per call: why in its docstring
    session.headers.update({**world.admin, "Content-Type": "application/json"})
    before = _stored_counts()

    @hypothesis.given(case=operation.as_strategy(), kind=st.sampled_from(sorted(HOSTILE_KINDS)), data=st.data())
    @hypothesis.settings(
        max_examples=HOSTILE_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def hostile(case, kind, data):
        for name in case.path_parameters:  # the body is under test: the path names a seeded row
            kind_of_row = _path_kind(case.path, name)
            seeded = world.ids[kind_of_row] if kind_of_row else [1]  # a body is refused before the row is read
            case.path_parameters[name] = data.draw(st.sampled_from(seeded), label=name)
        generated = case.body if isinstance(case.body, (dict, list, str, int, float, bool)) else {}  # optional body
        body = _hostile_body(generated, kind, data)
        response = session.request(method, f"{base_url}{case.formatted_path}", data=body, timeout=60)
        examples_run["image-admin (hostile bodies)"] += 1
        status_codes[("image-admin (hostile bodies)", operation.label, response.status_code)] += 1
        # The size is checked first: a deep or hostile body that is also too large is a 413.
        expected = 413 if len(body) > HOSTILE_BODY_LIMIT else HOSTILE_KINDS[kind]
        assert response.status_code == expected, (kind, len(body), response.status_code, response.text[:300])
        assert str(response.status_code) in documented
        assert response.json() == {"detail": response.json()["detail"], "status": response.status_code}

    hostile()
    assert _stored_counts() == before
    for listing in ("image_sets", "images", "campaigns"):
        assert session.get(f"{base_url}/{listing}", timeout=30).status_code == 200
