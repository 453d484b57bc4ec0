"""gilbench documents: the schema id, the kinds, one JSON schema per kind, and the one loader.

Every gilbench document is a JSON object whose ``schema`` is :data:`SCHEMA` and whose ``kind``
says its shape. Each kind has its own JSON schema (draft 2020-12), shipped as package data:

========== =========================== ======================================================
kind       written by                  rows
========== =========================== ======================================================
run        ``gilbench run``            ``results`` (+ ``recommendations``, ``scaling``)
bench      ``gilbench bench``          ``results`` (+ ``recommendations``)
web        ``gilbench web``            ``web_results``
compare    ``gilbench compare``        ``rows``, ``only_in_a``, ``only_in_b``
========== =========================== ======================================================

``web-app`` (``gilbench web --app``, the user's own app) is planned in DESIGN.md; it gets its
own kind and schema file when it is written.

Readers go through :func:`load`: it accepts a path or an already parsed dict, checks that it
is a gilbench document of a known kind and that its top level has that kind's shape, and says
what is wrong in one line (``ValueError``) otherwise. Rows are checked only with
``strict=True`` (the tests do): a reader renders an old or hand-edited row as best it can
rather than refusing the whole file.

Version history of the format (additions only; readers ignore fields they do not know):

- ``gilbench/1`` (0.1.0): run and bench documents (DESIGN.md's contract), then additions:
  ``kind``, ``command``, ``created``, ``gilbench_version``, ``warnings``, ``scaling``, and per
  row ``samples_s``, ``note``, ``efficiency``, ``checksum``, ``gil_hold_ms``, ``run_queue_s``.
- ``gilbench/1``, web documents (``kind: web``): ``config``, ``generator_ceiling_rps``,
  ``web_results``; later per row ``other_cpu_s``, ``offered_rps``, ``send_lag_ms_max``,
  ``window_s``, ``attempts``, ``rps_runs``, ``error``.
- ``gilbench/1``, compare documents (``kind: compare``).
- ``gilbench/1``, each kind got its own schema file (``schema.json`` for run and bench,
  ``schemas/web.json``, ``schemas/compare.json``); the web lab's warning ``machine-loaded`` is
  now ``loaded-machine`` like the run's, and :func:`load` renames it in older documents.
  A document without ``kind`` is read as the kind its fields show (``web_results``: web;
  ``rows`` and ``summary``: compare; otherwise run).
- ``gilbench/1``, run and bench: top-level ``cross_interpreter`` (two interpreters or more:
  fastest in absolute time, the free-threaded single-thread cost), per row
  ``gil_reenabled_by`` and ``leaked_processes``, classification ``cpu-free-threaded``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

SCHEMA = "gilbench/1"
"""The ``schema`` field of every document gilbench writes."""

KINDS: tuple[str, ...] = ("run", "bench", "web", "compare")
"""Document kinds, each with its own JSON schema (see :func:`schema_for`)."""

RESULT_KINDS: tuple[str, ...] = ("run", "bench")
"""Kinds whose rows are ``results`` (and so can be compared)."""

LEGACY_WARNING_CODES = {"machine-loaded": "loaded-machine"}
"""Warning codes older documents used -> the code for that condition now."""

_SCHEMA_FILES = {
    "run": "schema.json",
    "bench": "schema.json",
    "web": "schemas/web.json",
    "compare": "schemas/compare.json",
}
_MESSAGE_LIMIT = 300


def kind_of(doc: Mapping[str, Any]) -> str:
    """The document's kind, one of :data:`KINDS`: its ``kind`` field when known, else inferred
    from its fields (``web_results``: web; ``rows`` and ``summary``: compare; otherwise run)."""
    kind = doc.get("kind")
    if kind in KINDS:
        return str(kind)
    if "web_results" in doc:
        return "web"
    if "rows" in doc and "summary" in doc:
        return "compare"
    return "run"


@cache
def schema_for(kind: str) -> dict:
    """The JSON schema (a dict, draft 2020-12) of documents of ``kind``.

    Raises ``ValueError`` for a kind not in :data:`KINDS`. The result is shared: do not
    change it.
    """
    if kind not in _SCHEMA_FILES:
        raise ValueError(f"unknown document kind {kind!r} (known: {', '.join(KINDS)})")
    text = resources.files("gilbench").joinpath(_SCHEMA_FILES[kind]).read_text(encoding="utf-8")
    return json.loads(text)


def load(
    source: str | os.PathLike[str] | Mapping[str, Any],
    name: str | None = None,
    *,
    strict: bool = False,
) -> dict:
    """Read a gilbench document from a JSON file or take an already parsed one, checked.

    ``source`` is a path or a mapping; ``name`` is how messages call it (default: the path,
    or "document"). Returns the document as a dict (the same object for a dict without
    legacy warning codes; else a shallow copy with them renamed, see
    :data:`LEGACY_WARNING_CODES`).

    Raises ``ValueError`` with a one-line message when the file is missing or not JSON, or
    the value is not a gilbench document, is of an unknown kind, or its top level does not
    have its kind's shape (checked with jsonschema's ``Draft202012Validator``; messages are
    cut to 300 characters). With ``strict``, every row is validated against the schema too.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        name = name or path
        try:
            with open(path, encoding="utf-8") as f:
                doc: Any = json.load(f)
        except FileNotFoundError:
            raise ValueError(f"no such file: {path}") from None
        except (OSError, ValueError) as exc:
            raise ValueError(_one_line(f"cannot read {path}: {exc}")) from None
    else:
        doc, name = source, name or "document"
    if not isinstance(doc, Mapping):
        raise ValueError(
            f"{name} is not a gilbench results file (a JSON {_json_type(doc)}, not an object)"
        )
    if doc.get("schema") != SCHEMA:
        got = "" if doc.get("schema") is None else f", found {doc['schema']!r}"
        raise ValueError(_one_line(f"{name} is not a gilbench results file (schema {SCHEMA}{got})"))
    if "kind" in doc and doc["kind"] not in KINDS:
        raise ValueError(
            _one_line(
                f"{name} is a gilbench document of unknown kind {doc['kind']!r} "
                f"(known: {', '.join(KINDS)})"
            )
        )
    kind = kind_of(doc)
    problem = _problem(doc, kind, strict)
    if problem:
        raise ValueError(_one_line(f"{name} is not a valid gilbench {kind} document: {problem}"))
    return _upgrade(doc)


def _problem(doc: Mapping[str, Any], kind: str, strict: bool) -> str | None:
    """The first schema violation that matters (top level only unless ``strict``), or None."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import relevance

    validator = Draft202012Validator(schema_for(kind))
    # The shape of the document itself: a missing field, or one of the wrong type (a "results"
    # that is not a list). What is inside its fields (rows, environment) only when strict.
    errors = [
        e
        for e in validator.iter_errors(doc)
        if strict or not e.absolute_path or (len(e.absolute_path) == 1 and e.validator == "type")
    ]
    if not errors:
        return None
    error = min(errors, key=relevance)
    where = "/".join(map(str, error.absolute_path))
    message = error.message if len(error.message) <= 80 else f"{error.validator} check failed"
    return f"{message} (at {where})" if where else message


def _upgrade(doc: Mapping[str, Any]) -> dict:
    warnings = doc.get("warnings")
    if not isinstance(warnings, list) or not any(
        isinstance(w, Mapping) and w.get("code") in LEGACY_WARNING_CODES for w in warnings
    ):
        return doc if isinstance(doc, dict) else dict(doc)
    renamed = [
        {**w, "code": LEGACY_WARNING_CODES[w["code"]]}
        if isinstance(w, Mapping) and w.get("code") in LEGACY_WARNING_CODES
        else w
        for w in warnings
    ]
    return {**doc, "warnings": renamed}


def _json_type(value: object) -> str:
    names = {
        list: "array",
        str: "string",
        bool: "boolean",
        type(None): "null",
        int: "number",
        float: "number",
    }
    return names.get(type(value), type(value).__name__)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 1] + "…"
