"""gilbench documents: the schema id, the kinds, one JSON schema per kind, and the one loader.

Every gilbench document is a JSON object whose ``schema`` is :data:`SCHEMA` and whose ``kind``
says its shape. Each kind has its own JSON schema (draft 2020-12), shipped as package data:

========== =========================== ======================================================
kind       written by                  rows
========== =========================== ======================================================
run        ``gilbench run``            ``results`` (+ ``recommendations``, ``scaling``)
bench      ``gilbench bench``          ``results`` (+ ``recommendations``)
web        ``gilbench web``            ``web_results``
web-app    ``gilbench web --app``      ``app_results`` (+ ``diagnoses``, ``recommendation``)
compare    ``gilbench compare``        ``rows``, ``only_in_a``, ``only_in_b``
========== =========================== ======================================================

Readers go through :func:`load` (``gilbench report``, ``compare``, ``--format`` export, and
their Python functions): it accepts a path or an already parsed dict, checks that it is a
gilbench document of a known kind, validates all of it (top level, every row) against that
kind's schema, and otherwise raises ``ValueError`` with one line naming the document and the
field, e.g. ``results.json: results[0].status: 'bogus' is not one of ['ok', 'error', ...]``
(the CLI prints it and exits 2). The schemas describe every version below, so what an older
gilbench wrote still loads.

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
  ``gil_reenabled_by`` and ``leaked_processes``, classification ``cpu-free-threaded``; row
  status ``pending`` (the file exists from the start of a run; a finished run has none, an
  interrupted one turns them into ``skipped``, "not run: interrupted").
- ``gilbench/1``, run and bench: per ``scaling`` entry ``predicted_ci95`` ("8", "16", "64" ->
  [low, high] speedup, the Amdahl fit through the ends of the points' 95% intervals), and
  ``predicted`` holds only the worker counts the points support (any of "8", "16", "64", or
  null); older entries have no ``predicted_ci95`` and all three predictions.
- ``gilbench/1``, run and bench: per row ``loops`` (passes per timed value), ``warmups`` and
  ``steady`` (the warm-up until two passes agree); per recommendation ``decided``,
  ``undecided`` (the comparisons still open) and ``inconclusive`` (the sentence saying so).
  Older documents lack them: rows read as one loop, verdicts as decided.
- ``gilbench/1``, web-app documents (``kind: web-app``, ``schemas/web-app.json``): the user's
  own app under a sweep of server configurations: ``config``, ``app``, ``app_results``,
  ``diagnoses``, ``recommendation``, ``failure``. Web rows' load generator now counts any 2xx
  answer as served (it counted only 200).
- ``gilbench/1``, web: CPU-bound cells sampled until decided; per row ``gain``, ``gain_ci95``
  and ``decided`` (a CPU variant's closed-loop row above 1 worker: median RPS over the
  1-worker cell's, its 95% interval, whether it settles the 10% margin; else null), in
  ``config`` ``min_runs`` and ``max_runs``, and ``repeat`` null for "until decided". Older
  documents lack them: their lessons read as they were written.
- ``gilbench/1``, run and bench: per ``cross_interpreter`` entry and per its ``free_threaded``
  item ``left_out``: the rows past a physical limit (``engine.limits``) that would otherwise
  have been named the fastest, the runner-up, a build's best or its default build's best, each
  {``python``, ``strategy``, ``workers``, ``wall_s``, ``speedup``, ``would_be``, ``flags``:
  [{``code``, ``reason``}]}. Such rows are no longer named there; when counting one would
  change the verdict, ``decided`` is false (``beats_baseline`` null) and the why says so.
  Older entries lack ``left_out`` (read it as empty) and may name a flagged row.
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

KINDS: tuple[str, ...] = ("run", "bench", "web", "web-app", "compare")
"""Document kinds, each with its own JSON schema (see :func:`schema_for`)."""

RESULT_KINDS: tuple[str, ...] = ("run", "bench")
"""Kinds whose rows are ``results`` (and so can be compared)."""

LEGACY_WARNING_CODES = {"machine-loaded": "loaded-machine"}
"""Warning codes older documents used -> the code for that condition now."""

_SCHEMA_FILES = {
    "run": "schema.json",
    "bench": "schema.json",
    "web": "schemas/web.json",
    "web-app": "schemas/web-app.json",
    "compare": "schemas/compare.json",
}
_MESSAGE_LIMIT = 300


def kind_of(doc: Mapping[str, Any]) -> str:
    """The document's kind, one of :data:`KINDS`: its ``kind`` field when known, else inferred
    from its fields (``web_results``: web; ``app_results``: web-app; ``rows`` and ``summary``:
    compare; otherwise run)."""
    kind = doc.get("kind")
    if kind in KINDS:
        return str(kind)
    if "web_results" in doc:
        return "web"
    if "app_results" in doc:
        return "web-app"
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


def load(source: str | os.PathLike[str] | Mapping[str, Any], name: str | None = None) -> dict:
    """Read a gilbench document from a JSON file or take an already parsed one, validated.

    ``source`` is a path or a mapping; ``name`` is how messages call it (default: the path as
    given, or "document"). Returns the document as a dict (the same object for a dict without
    legacy warning codes; else a shallow copy with them renamed, see
    :data:`LEGACY_WARNING_CODES`).

    Raises ``ValueError`` with one line, ``<name>: <field>: <what is wrong>`` (the field as a
    JSON path, e.g. ``results[0].status``; at most 300 characters), when the file is missing,
    unreadable or not JSON, or the value is not a gilbench document (not an object, ``schema``
    not :data:`SCHEMA`), is of an unknown kind, or breaks its kind's JSON schema anywhere
    (jsonschema's draft 2020-12 validator; tuples count as arrays, mappings as objects, as
    they are written). With several faults, the most specific (deepest) one is named and the
    rest counted.
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        name = name or path
        doc = _read_json(path, name)
    else:
        doc, name = source, name or "document"
    if not isinstance(doc, Mapping):
        raise ValueError(
            f"{name}: not a gilbench results file (a JSON {_json_type(doc)}, not an object)"
        )
    if doc.get("schema") != SCHEMA:
        raise ValueError(_one_line(f"{name}: schema: {_schema_problem(doc.get('schema'))}"))
    if "kind" in doc and doc["kind"] not in KINDS:
        known = ", ".join(map(repr, KINDS))
        raise ValueError(
            _one_line(f"{name}: kind: unknown kind {_short(doc['kind'])} (known: {known})")
        )
    problem = _problem(doc, kind_of(doc))
    if problem:
        raise ValueError(_one_line(f"{name}: {problem}"))
    return _upgrade(doc)


def _read_json(path: str, name: str) -> Any:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ValueError(f"{name}: no such file") from None
    except OSError as exc:
        raise ValueError(_one_line(f"{name}: cannot read: {exc.strerror or exc}")) from None
    try:
        return json.loads(data)
    except ValueError as exc:  # JSONDecodeError, or bytes that are not UTF-8/16/32
        raise ValueError(_one_line(f"{name}: not JSON: {exc}")) from None


def _schema_problem(found: object) -> str:
    if found is None:
        return f"missing: not a gilbench results file (schema {SCHEMA})"
    if str(found).startswith("gilbench/"):
        return f"{_short(found)} is not {SCHEMA!r}: a gilbench format this version does not read"
    return f"{_short(found)} is not {SCHEMA!r}: not a gilbench results file"


@cache
def _validator(kind: str) -> Any:
    """A draft 2020-12 validator of ``kind``'s schema that takes a document as it is in memory
    before it is written: tuples are arrays, any mapping is an object."""
    from jsonschema import Draft202012Validator, validators

    checker = Draft202012Validator.TYPE_CHECKER.redefine_many(
        {
            "array": lambda _, v: isinstance(v, (list, tuple)),
            "object": lambda _, v: isinstance(v, Mapping),
        }
    )
    cls = validators.extend(Draft202012Validator, type_checker=checker)
    return cls(schema_for(kind))


def _problem(doc: Mapping[str, Any], kind: str) -> str | None:
    """``<field>: <what is wrong>`` for the deepest schema violation (the first in document
    order among equals), with how many more there are; None when the document is valid."""
    errors = list(_validator(kind).iter_errors(doc))
    if not errors:
        return None
    # Siblings share a parent, so their keys are all ints or all strings: tuples compare.
    error = min(errors, key=lambda e: (-len(e.absolute_path), tuple(e.absolute_path)))
    path = list(error.absolute_path)
    if error.validator == "required":  # name the missing field itself
        missing = [f for f in error.validator_value if f not in error.instance]
        path.append(missing[0])
        message = "missing (a required field)"
    else:
        message = error.message
        shown = repr(error.instance)
        if message.startswith(shown):  # jsonschema starts with the whole value: shorten it
            message = _short(error.instance) + message[len(shown) :]
    others = len(errors) - 1
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    where = _json_path(path)
    return f"{where}: {message}{more}" if where else f"{message}{more}"


def _json_path(parts: list[Any]) -> str:
    """``['results', 0, 'status']`` -> ``results[0].status`` (``['8']`` for a key that is not
    an identifier)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).isidentifier():
            out += f".{part}" if out else str(part)
        else:
            out += f"[{str(part)!r}]"
    return out


def _short(value: object) -> str:
    """``repr(value)``, cut down for a one-line message."""
    import reprlib

    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxdict, short.maxlist, short.maxlevel = 40, 40, 3, 3, 2
    return short.repr(value)


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
