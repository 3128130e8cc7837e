"""Checks of what the client sends and reads against labelhub's own OpenAPI document.

``undeclared(document, request)`` names what a request uses that the document does not
declare: an operation (method and path), a query parameter, or a field of its JSON body
(at any depth). ``undeclared_fields(document, model, components)`` names the fields of a
client model that none of the given response schemas has. Written against the document's
shapes (``$ref``, ``allOf``/``oneOf``/``anyOf``, ``properties``, ``items``,
``additionalProperties``), with no server code: the tests generate the document from the
running labelhub.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_PREFIX = "/api/v1"
_DOCUMENT: dict = {}


def openapi_document(base_url: str) -> dict:
    """The OpenAPI document the live labelhub at ``base_url`` serves (fetched once per session)."""
    import httpx

    if not _DOCUMENT:
        response = httpx.get(f"{base_url}{API_PREFIX}/schema", params={"format": "json"}, timeout=60)
        response.raise_for_status()
        _DOCUMENT.update(response.json())
    return _DOCUMENT


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    content_type: str
    body: bytes


def _resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _alternatives(document: dict, schema: dict) -> list[dict]:
    """The schemas a value of ``schema`` may match: the branches of ``oneOf``/``anyOf``, else itself."""
    schema = _resolve(document, schema)
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches:
        return [alternative for branch in branches for alternative in _alternatives(document, branch)]
    return [schema]


def _properties(document: dict, schema: dict) -> tuple[dict, Any]:
    """An object schema's properties (``allOf`` merged) and its ``additionalProperties``."""
    schema = _resolve(document, schema)
    properties = dict(schema.get("properties", {}))
    additional = schema.get("additionalProperties", False)
    for part in schema.get("allOf", []):
        more, more_additional = _properties(document, part)
        properties.update(more)
        additional = additional or more_additional
    return properties, additional


def _undeclared_in(document: dict, schema: dict, value: Any, where: str) -> list[str]:
    """Paths of ``value``'s object keys that ``schema`` does not declare; ``[]`` if one alternative fits."""
    best: list[str] | None = None
    for alternative in _alternatives(document, schema):
        found = _undeclared_one(document, alternative, value, where)
        if not found:
            return []
        if best is None or len(found) < len(best):
            best = found
    return best or []


def _undeclared_one(document: dict, schema: dict, value: Any, where: str) -> list[str]:
    """Keys of ``value`` (at any depth) that ``schema`` does not name.

    An object schema with ``properties`` declares those (and what an explicit
    ``additionalProperties`` allows); one without is free-form (``metadata``).
    """
    if isinstance(value, dict):
        properties, additional = _properties(document, schema)
        found = []
        for key, item in value.items():
            if key in properties:
                found += _undeclared_in(document, properties[key], item, f"{where}.{key}")
            elif isinstance(additional, dict) and additional:
                found += _undeclared_in(document, additional, item, f"{where}.{key}")
            elif properties and additional is not True and additional != {}:
                found.append(f"{where}.{key}")
        return found
    if isinstance(value, list):
        items = _resolve(document, schema).get("items")
        if items is None:
            return []
        return [path for n, item in enumerate(value) for path in _undeclared_in(document, items, item, f"{where}[{n}]")]
    return []


@cache
def _template(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")


def operation_of(document: dict, method: str, path: str) -> dict | None:
    """The document's operation for ``method`` on ``path`` (below ``/api/v1``), or ``None``."""
    for template, operations in document["paths"].items():
        if _template(template).match(path):
            operation = operations.get(method.lower())
            if operation is not None:
                return operation
    return None


def undeclared(document: dict, request: SentRequest) -> list[str]:
    """What ``request`` uses that the document does not declare (``[]``: all of it is declared)."""
    parts = urlsplit(request.url)
    path = parts.path[len(API_PREFIX) :]
    operation = operation_of(document, request.method, path)
    if operation is None:
        return [f"operation {request.method} {path}"]
    declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    found = [f"query parameter {name!r}" for name, _ in parse_qsl(parts.query) if name not in declared]
    if request.body and request.content_type.startswith("application/json"):
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema is None:
            found.append("a JSON body")
        else:
            found += [f"body field {p}" for p in _undeclared_in(document, schema, json.loads(request.body), "$")]
    return found


class _Recording(dict):
    """A JSON object that notes every key read from it, present or not (``read``: their paths)."""

    def __init__(self, values: dict, where: str, read: list[str]):
        super().__init__(values)
        self.where, self.read = where, read

    def _note(self, key):
        self.read.append(f"{self.where}.{key}" if key not in self else "")
        return key

    def get(self, key, default=None):
        return super().get(self._note(key), default)

    def __getitem__(self, key):
        return super().__getitem__(self._note(key))

    def __contains__(self, key):
        return super().__contains__(key)


def sample(document: dict, schema: dict, where: str, read: list[str], *, alternative: int = 0) -> Any:
    """A value of ``schema`` with every declared property filled in; its objects note the keys read."""
    alternatives = _alternatives(document, schema)
    schema = alternatives[min(alternative, len(alternatives) - 1)]
    properties, _ = _properties(document, schema)
    if properties:
        return _Recording({k: sample(document, v, f"{where}.{k}", read) for k, v in properties.items()}, where, read)
    kind = schema.get("type")
    if kind == "array":
        return [sample(document, schema.get("items", {}), f"{where}[0]", read)]
    if "enum" in schema:
        return next(value for value in schema["enum"] if value is not None)
    if kind == "string":
        return "2024-03-15T10:00:00.000000Z" if schema.get("format") == "date-time" else "x"
    return {"integer": 1, "number": 0.5, "boolean": True}.get(kind, {})


def undeclared_reads(document: dict, build, component: str, *, alternative: int = 0) -> list[str]:
    """The keys ``build`` (a model's ``from_dict``) reads from an answer of ``component`` that it does not declare."""
    read: list[str] = []
    build(sample(document, {"$ref": f"#/components/schemas/{component}"}, "$", read, alternative=alternative))
    return sorted({path for path in read if path})
