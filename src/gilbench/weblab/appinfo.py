"""What the user's web app is, found in a process of its own: ASGI or WSGI, which framework,
and which handler serves each path (``gilbench web --app MODULE:APP --path /x``).

gilbench never imports the user's app itself: the import may hang, crash, print, start threads
or fill ``sys.modules``. :func:`inspect_app` runs ``python -m gilbench.weblab.appinfo`` (this
module, :func:`main`) in the user's directory instead and reads its answer.

**The child** reads one JSON object on stdin::

    {"target": "module:attr", "paths": ["/cpu", ...], "method": "GET"}

puts its working directory first on ``sys.path``, imports ``module``, follows ``attr`` (dotted
names allowed: ``mod:api.app``) and writes one line to its stdout, ``GILBENCH-APPINFO `` then
JSON, either::

    {"interface": "asgi" | "wsgi",
     "framework": "fastapi" | "starlette" | "flask" | "django" | null,
     "paths": [{"path": "/cpu", "method": "GET", "found": true,
                "handler": "shop_fastapi.cpu", "handler_kind": "async def" | "def" | null}]}

or ``{"error": "one line"}``. Everything the user's code writes, to ``sys.stdout`` or to file
descriptor 1, goes to stderr instead; the child ends with ``os._exit`` so that threads the
import started cannot keep it alive.

The rules, and where they come from:

- **Target**: ``module:attr`` with the attribute path split on dots, as uvicorn's
  ``uvicorn/importer.py`` (``import_from_string``) does. Gunicorn's ``util.import_app`` takes
  one name only (or a call of one, which gilbench does not accept either), so a WSGI app given
  as a dotted attribute is refused, naming the target to give instead (``module:app`` for a
  Flask app's ``module:app.wsgi_app``).
- **ASGI or WSGI**: FastAPI and Starlette apps are ASGI, Flask apps (an object with a
  ``wsgi_app``) and Django's ``WSGIHandler`` WSGI, Django's ``ASGIHandler`` ASGI. Otherwise, as
  uvicorn's ``Config.load`` decides between ASGI 3 and ASGI 2 (``uvicorn/config.py``): a class is
  ASGI; a coroutine function, or an object whose ``__call__`` is one, is ASGI 3; a plain
  callable taking two positional arguments (``environ, start_response``, PEP 3333) is WSGI and
  one taking three (``scope, receive, send``) ASGI. Anything else is not an app.
- **Routes, Starlette and FastAPI**: the first route whose ``matches(scope)``
  (``starlette/routing.py``, ``Route.matches``) gives ``Match.FULL`` for a minimal HTTP scope
  serves the path, as ``Router.app`` picks it; a ``Mount`` (or ``Host``) that matches is searched
  in turn. A path that only matches with another method (``Match.PARTIAL``: 405) or only after
  a trailing-slash redirect is not found. The handler is ``route.endpoint``; its kind follows
  FastAPI's ``Dependant.is_coroutine_callable`` (``fastapi/dependencies/models.py``: through
  ``functools.partial``, ``__wrapped__`` and a callable object's ``__call__``), and for a
  Starlette ``HTTPEndpoint`` class the method's handler (``HTTPEndpoint.dispatch``).
- **Routes, Flask**: Werkzeug's ``MapAdapter.match(path, method=...)`` (``werkzeug/routing/
  map.py``) gives the endpoint name, ``app.view_functions[name]`` the view. A redirect
  (``strict_slashes``) or a 405 is not found. A view is ``def`` unless it is a coroutine
  function (Flask runs ``async def`` views in a thread with their own event loop).
- **Routes, Django**: ``django.urls.resolve(path)`` gives the view; a class-based view's
  ``view_is_async`` says whether it is ``async def``.
- Any other app: served, but its routes are unknown (``found``, ``handler`` and
  ``handler_kind`` null).

**The parent**, :func:`inspect_app`, returns an :class:`AppInfo` or raises ``UsageError``
(one line, exit code 2) when the target is malformed, the import fails or raises (naming the
exception and the user's file and line), the attribute is missing, the object is not an app,
the child does not answer within the timeout, or it dies (exit code or signal, and the last line
it wrote on stderr). A path that is not found is not an error: the caller warns about it.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import signal
import subprocess
import sys
import tempfile
import traceback
from dataclasses import asdict, dataclass
from typing import Any

from gilbench.weblab import UsageError

PREFIX = "GILBENCH-APPINFO "
"""Starts the child's answer line on its stdout; anything else there is the user's."""

INTERFACES = ("asgi", "wsgi")
FRAMEWORKS = ("fastapi", "starlette", "flask", "django")
ASYNC_DEF = "async def"
DEF = "def"
# The last line of the child's stderr quoted in an error is cut to this many characters.
STDERR_CHARS = 300


@dataclass(frozen=True)
class PathInfo:
    """One ``--path`` and what serves it.

    ``found``: True when a route serves ``method path``, False when the framework has none
    (404 or 405), None when the framework is unknown. ``handler``: ``module.qualname`` of the
    function (or object) that handles it, or None. ``handler_kind``: ``"async def"`` (runs on
    the event loop; for Flask, in a thread with a loop of its own), ``"def"`` (a thread-pool
    thread under ASGI frameworks, the request's thread under WSGI), or None when unknown."""

    path: str
    method: str
    found: bool | None
    handler: str | None
    handler_kind: str | None


@dataclass(frozen=True)
class AppInfo:
    """The user's app: ``interface`` ("asgi" or "wsgi"), ``framework`` (one of
    :data:`FRAMEWORKS`, or None) and one :class:`PathInfo` per path asked about, in order."""

    interface: str
    framework: str | None
    paths: tuple[PathInfo, ...]

    def to_dict(self) -> dict[str, Any]:
        """The child's JSON shape: ``{"interface", "framework", "paths": [{...}, ...]}``."""
        return {
            "interface": self.interface,
            "framework": self.framework,
            "paths": [asdict(p) for p in self.paths],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppInfo:
        """The inverse of :meth:`to_dict`; KeyError or TypeError when a field is missing."""
        return cls(
            interface=data["interface"],
            framework=data["framework"],
            paths=tuple(PathInfo(**p) for p in data["paths"]),
        )


# -- the parent ----------------------------------------------------------------------------------


def split_target(target: str) -> tuple[str, str]:
    """``"module:attr"`` -> (module, attr). Raises UsageError when either part is missing."""
    module, sep, attr = target.partition(":")
    if not sep or not module.strip() or not attr.strip() or ":" in attr:
        raise UsageError(
            f"--app must be MODULE:APP (e.g. main:app, for `app` in main.py), got {target!r}"
        )
    return module.strip(), attr.strip()


def inspect_app(
    target: str,
    paths: list[str],
    method: str = "GET",
    cwd: str | None = None,
    python: str = sys.executable,
    timeout: float = 30.0,
    timeout_option: str | None = None,
) -> AppInfo:
    """Import ``target`` ("module:attr") with ``python`` in a child process whose working
    directory, first on its ``sys.path``, is ``cwd`` (default: this one), and say what it is
    and which handler serves each of ``paths`` for ``method``.

    The child runs in a process group of its own on gilbench's lifeline
    (``services._process.spawn``); the whole group is ended when it answers, dies or takes
    longer than ``timeout`` seconds (default 30, that of ``gilbench web --startup-timeout``),
    so nothing the import started survives. ``timeout_option`` (e.g. ``"--startup-timeout"``)
    is the option that set ``timeout``: the timeout's message names it as the one to raise.
    Raises UsageError (one line) for a malformed target, an import that fails or raises, a
    missing attribute, an object that is not an ASGI or WSGI app, a WSGI app given as a dotted
    attribute (gunicorn cannot serve it), a child that does not finish in time or dies.
    """
    from gilbench.services import _process

    module, _ = split_target(target)
    cwd = os.path.abspath(cwd or os.getcwd())
    if not os.path.isdir(cwd):
        raise UsageError(f"cannot import {module!r} from {cwd}: no such directory")
    request = {"target": target, "paths": list(paths), "method": method.upper()}
    with (
        tempfile.TemporaryFile() as stdin,
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
    ):
        stdin.write(json.dumps(request).encode())
        stdin.seek(0)
        try:
            proc = _process.spawn(
                [python, "-m", "gilbench.weblab.appinfo"],
                env=_process.child_env(),
                cwd=cwd,
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
            )
        except OSError as exc:
            raise UsageError(f"cannot run {python} to import {target!r}: {exc}") from None
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _end_group(proc)
        if timed_out:
            if timeout_option:
                raise UsageError(
                    f"importing {module!r} did not finish in {timeout:g} s, the limit "
                    f"{timeout_option} sets (from {cwd}): if the import is only slow, "
                    f"raise {timeout_option}"
                )
            raise UsageError(f"importing {module!r} did not finish in {timeout:g} s (from {cwd})")
        stdout.seek(0)
        answer = _answer(stdout.read().decode(errors="replace"))
        if answer is None:
            stderr.seek(0)
            raise UsageError(
                f"importing {module!r} {_death(proc.returncode)}"
                f"{_last_line(stderr.read().decode(errors='replace'))}"
            )
    if "error" in answer:
        raise UsageError(str(answer["error"]).splitlines()[0] if answer["error"] else "error")
    try:
        return AppInfo.from_dict(answer)
    except (KeyError, TypeError) as exc:  # a child from another gilbench version
        raise UsageError(
            f"inspecting {target!r} gave an answer gilbench cannot read: {exc}"
        ) from None


def _end_group(proc: subprocess.Popen) -> None:
    """Stop the child's process group (``_process.stop``), then SIGKILL what the user's import
    left in it after the child itself exited (``stop`` only signals a group whose leader is
    still there), and wait until none of it runs."""
    from gilbench.services import _process

    _process.stop(proc, grace=1.0)
    # The child started a session, so its pid is its group's id; the kernel does not reuse a
    # pid while a group of that id has members, so this reaches only what the child started.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
    _process.wait_group_gone(proc.pid, timeout=2.0)


def _answer(stdout: str) -> dict[str, Any] | None:
    """The child's answer: the JSON on its last ``PREFIX`` line, or None when there is none."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(PREFIX):
            try:
                answer = json.loads(line[len(PREFIX) :])
            except ValueError:
                return None
            return answer if isinstance(answer, dict) else None
    return None


def _death(returncode: int | None) -> str:
    """How a child that gave no answer ended, as words after "importing 'x' "."""
    if returncode is None:
        return "did not finish"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"crashed: the process was killed by {name}"
    return f"ended the process (exit code {returncode}) before gilbench got an answer"


def _last_line(stderr: str) -> str:
    """``": <the last non-blank line>"`` of ``stderr``, cut to STDERR_CHARS, or ``""``."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    return f": {last[:STDERR_CHARS]}{'...' if len(last) > STDERR_CHARS else ''}"


# -- the child -----------------------------------------------------------------------------------


class _Refusal(Exception):
    """Why the target cannot be served: the one-line ``error`` of the child's answer."""


def main() -> None:
    """The child (``python -m gilbench.weblab.appinfo``): read the request on stdin, answer one
    ``PREFIX`` line on the real stdout, exit with ``os._exit(0)``."""
    answer_fd = os.dup(1)
    os.dup2(2, 1)  # the user's prints, even from C, go to stderr
    sys.stdout = sys.stderr
    try:
        answer = _inspect_request(sys.stdin.read())
    except _Refusal as exc:
        answer = {"error": str(exc)}
    except BaseException as exc:  # gilbench's own fault: still one line
        answer = {"error": f"gilbench could not inspect the app: {_describe(exc)}"}
    with os.fdopen(answer_fd, "w") as out:
        out.write(PREFIX + json.dumps(answer) + "\n")
        out.flush()
    sys.stderr.flush()
    os._exit(0)


def _inspect_request(text: str) -> dict[str, Any]:
    try:
        request = json.loads(text)
        target, paths = request["target"], list(request.get("paths", []))
        method = str(request.get("method", "GET")).upper()
    except (ValueError, KeyError, TypeError) as exc:
        raise _Refusal(f"bad request to gilbench.weblab.appinfo: {_describe(exc)}") from None
    try:
        module_name, attr = split_target(target)
    except UsageError as exc:
        raise _Refusal(str(exc)) from None
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # the user's code reads nothing from us
    app = _load(module_name, attr, os.getcwd())
    framework, inner = _framework(app)
    interface = _interface(app, target)
    if interface == "wsgi" and "." in attr:
        raise _Refusal(_dotted_wsgi(module_name, attr))
    return {
        "interface": interface,
        "framework": framework,
        "paths": [asdict(_lookup(inner, framework, path, method)) for path in paths],
    }


def _load(module_name: str, attr: str, cwd: str) -> Any:
    """Import ``module_name`` with ``cwd`` first on sys.path and follow ``attr``'s dots."""
    import importlib

    if sys.path[:1] != [cwd]:
        sys.path.insert(0, cwd)
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise _Refusal(
                f"cannot import {module_name!r} from {cwd}: {_describe_msg(exc)}"
            ) from None
        raise _Refusal(_raised(module_name, exc, cwd)) from None
    except BaseException as exc:  # the module's own code raised (or exited) while importing
        raise _Refusal(_raised(module_name, exc, cwd)) from None
    for i, part in enumerate(attr.split(".")):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            where = module_name if i == 0 else f"{module_name}:{'.'.join(attr.split('.')[:i])}"
            kind = "module" if i == 0 else "object"
            raise _Refusal(f"{kind} {where!r} has no attribute {part!r}") from None
        except BaseException as exc:
            raise _Refusal(f"getting {module_name}:{attr} raised {_describe(exc)}") from None
    return obj


def _dotted_wsgi(module_name: str, attr: str) -> str:
    """Why a WSGI app named by a dotted attribute (``module:app.wsgi_app``) cannot be served,
    and the target to give instead: gunicorn's ``util.import_app`` parses the attribute as one
    name or a call of one (``ast.Name`` or ``ast.Call``), never ``a.b``, and its worker fails
    with "Failed to parse 'app.wsgi_app' as an attribute name or function call"."""
    target = f"{module_name}:{attr}"
    parent, _, last = attr.rpartition(".")
    if last == "wsgi_app" and "." not in parent:
        try:
            owner = _interface(_load(module_name, parent, os.getcwd()), target)
        except _Refusal:
            owner = None
        if owner == "wsgi":  # a Flask app: calling it calls its wsgi_app, middleware included
            return (
                f"--app {target}: gunicorn takes MODULE:NAME, not the app's wsgi_app method; "
                f"give --app {module_name}:{parent} (the app calls its wsgi_app)"
            )
    return (
        f"--app {target}: gunicorn takes MODULE:NAME, not a dotted attribute; bind the app to "
        f"a name in {module_name} (e.g. app = {attr}) and give --app {module_name}:app"
    )


def _raised(module_name: str, exc: BaseException, cwd: str) -> str:
    """``importing 'x' raised Type: message (file.py:3)``: the place is the innermost frame of
    the traceback in ``cwd`` (the user's code), else the innermost outside the import system."""
    text = f"importing {module_name!r} raised {_describe(exc)}"
    if isinstance(exc, SyntaxError):  # its message names the file and line already
        return text
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith("<frozen ") and f.filename != __file__
    ]
    if not frames:
        return text
    mine = [f for f in frames if _under(f.filename, cwd)]
    frame = (mine or frames)[-1]
    name = os.path.relpath(frame.filename, cwd) if mine else frame.filename
    return f"{text} ({name}:{frame.lineno})"


def _under(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([os.path.abspath(path), directory]) == directory
    except ValueError:
        return False


def _describe(exc: BaseException) -> str:
    """ "Type: first line of the message", or the type alone."""
    message = _describe_msg(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _describe_msg(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else ""


def _framework(app: Any) -> tuple[str | None, Any]:
    """(framework, the object whose routes to read): the app's own, else that of the app that
    middleware wraps (Starlette-style ``self.app``, a few levels deep)."""
    inner = app
    for _ in range(8):
        name = _framework_of(inner)
        if name is not None:
            return name, inner
        try:
            inner = getattr(inner, "app", None)
        except Exception:  # a property that raises: look no deeper
            break
        if inner is None or inspect.ismodule(inner):
            break
    return None, app


# The classes that make an app one framework's, by ``module.qualname`` (any base class counts).
_APP_CLASSES = {
    "fastapi.applications.FastAPI": "fastapi",
    "starlette.applications.Starlette": "starlette",
    "starlette.routing.Router": "starlette",
    "flask.app.Flask": "flask",
    "flask.sansio.app.App": "flask",
    "django.core.handlers.wsgi.WSGIHandler": "django",
    "django.core.handlers.asgi.ASGIHandler": "django",
}


def _framework_of(obj: Any) -> str | None:
    """The framework ``obj`` is an app of (an instance of one of its app classes), or None.
    FastAPI is checked first: a FastAPI app is a Starlette app too."""
    if inspect.isclass(obj):
        return None
    names = {f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__}
    for name in FRAMEWORKS:
        if any(_APP_CLASSES[c] == name for c in names & _APP_CLASSES.keys()):
            return name
    return None


def _interface(app: Any, target: str) -> str:
    """ "asgi" or "wsgi" (module docstring); raises _Refusal when ``app`` is neither.
    An app wrapped in middleware is judged by the wrapper."""
    own = _framework_of(app)
    if own in ("fastapi", "starlette"):
        return "asgi"
    if own == "flask":
        return "wsgi"
    if own == "django":
        names = {c.__name__ for c in type(app).__mro__}
        if "WSGIHandler" in names:
            return "wsgi"
        if "ASGIHandler" in names:
            return "asgi"
    if not callable(app):
        raise _Refusal(f"{target} is not an ASGI or WSGI app ({_a(type(app).__name__)})")
    if callable(getattr(app, "wsgi_app", None)):
        return "wsgi"
    if inspect.isclass(app):  # uvicorn: a class is an ASGI app (ASGI 3 if awaitable, else 2)
        return "asgi"
    call = app if inspect.isroutine(app) else type(app).__call__
    if _is_async(call):
        return "asgi"
    positional = _positional_count(app)
    if positional == 2:
        return "wsgi"
    if positional == 3:
        return "asgi"
    what = _a(type(app).__name__)
    if positional == 0:
        what += " taking no arguments"
    elif positional is not None:
        what += f" taking {positional} positional argument{'s' if positional != 1 else ''}"
    hint = ""
    if positional == 0:
        hint = ": if it builds the app, point --app at the app it returns"
    raise _Refusal(f"{target} is not an ASGI or WSGI app ({what}{hint})")


def _positional_count(func: Any) -> int | None:
    """How many positional parameters ``func`` takes (None: unknown or ``*args``)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = [p.kind for p in params]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return None
    return sum(
        k in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for k in kinds
    )


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _lookup(app: Any, framework: str | None, path: str, method: str) -> PathInfo:
    """Which handler serves ``method path``; unknown (None) when the lookup itself fails."""
    route_path = path.split("?", 1)[0] or "/"
    finders = {
        "fastapi": _starlette_handler,
        "starlette": _starlette_handler,
        "flask": _flask_handler,
        "django": _django_handler,
    }
    unknown = PathInfo(path, method, None, None, None)
    if framework not in finders:
        return unknown
    try:
        found, handler = finders[framework](app, route_path, method)
    except Exception:
        return unknown
    if not found:
        return PathInfo(path, method, False, None, None)
    if handler is None:
        return PathInfo(path, method, True, None, None)
    entry = _entry(handler, method)
    return PathInfo(path, method, True, _name(entry), _kind(entry))


def _starlette_handler(app: Any, path: str, method: str) -> tuple[bool, Any]:
    from starlette.routing import Match

    routes = getattr(app, "routes", None)
    if routes is None:
        routes = app.router.routes
    scope: dict[str, Any] = {
        "type": "http",
        "path": path,
        "method": method,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
    }
    return _match_routes(routes, scope, Match)


def _match_routes(routes: Any, scope: dict[str, Any], match_enum: Any) -> tuple[bool, Any]:
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is not match_enum.FULL:
            continue
        endpoint = getattr(route, "endpoint", None)
        if endpoint is not None:
            return True, endpoint
        sub_routes = getattr(route, "routes", None)  # Mount, Host: search what they hold
        if sub_routes:
            return _match_routes(sub_routes, {**scope, **child_scope}, match_enum)
        return True, getattr(route, "app", None)  # a mounted app without routes
    return False, None


def _flask_handler(app: Any, path: str, method: str) -> tuple[bool, Any]:
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import RequestRedirect

    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method=method)
    except (RequestRedirect, HTTPException):  # redirect (strict_slashes), 404, 405
        return False, None
    return True, app.view_functions.get(endpoint)


def _django_handler(app: Any, path: str, method: str) -> tuple[bool, Any]:
    from django.urls import Resolver404, resolve

    try:
        match = resolve(path)
    except Resolver404:
        return False, None
    return True, match.func


def _entry(handler: Any, method: str) -> Any:
    """What runs for the request: a class-based view's method (Starlette's ``HTTPEndpoint``
    dispatches to ``get``, ``post``...; Flask's ``MethodView`` the same, its ``View`` to
    ``dispatch_request``), a Django class-based view's class, else ``handler`` itself."""
    func = _unwrap(handler)
    name = "get" if method == "HEAD" else method.lower()
    view_class = getattr(func, "view_class", None)  # Flask's and Django's as_view()
    if view_class is not None:
        if hasattr(view_class, "view_is_async"):  # Django: the class says
            return view_class
        return getattr(view_class, name, None) or getattr(view_class, "dispatch_request", func)
    if inspect.isclass(func):
        return getattr(func, name, None) or func
    return handler


def _name(handler: Any) -> str:
    """``module.qualname`` of the function behind ``handler`` (or of its class)."""
    func = _unwrap(handler)
    if not hasattr(func, "__qualname__"):
        func = type(func)
    return f"{getattr(func, '__module__', None) or '?'}.{func.__qualname__}"


def _unwrap(func: Any) -> Any:
    while isinstance(func, functools.partial):
        func = func.func
    try:
        return inspect.unwrap(func)
    except ValueError:  # a __wrapped__ cycle
        return func


def _is_async(func: Any) -> bool:
    """Whether calling ``func`` gives a coroutine (or async generator), looking through
    partials and ``__wrapped__`` as FastAPI's ``is_coroutine_callable`` does."""
    for f in (func, _unwrap(func)):
        while isinstance(f, functools.partial):
            f = f.func
        if inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f):
            return True
        if _legacy_coroutine(f):
            return True
    return False


def _legacy_coroutine(func: Any) -> bool:
    """``asyncio.iscoroutinefunction``'s marker (``_is_coroutine``), still honoured by FastAPI
    on Python 3.11 and 3.12."""
    import asyncio.coroutines

    marker = getattr(asyncio.coroutines, "_is_coroutine", None)
    return marker is not None and getattr(func, "_is_coroutine", None) is marker


def _kind(entry: Any) -> str | None:
    """ "async def" or "def" for what :func:`_entry` found; None when it is neither a function
    nor a Django view class nor an object with a ``__call__`` method."""
    func = _unwrap(entry)
    if inspect.isclass(func):
        if hasattr(func, "view_is_async"):  # Django
            return ASYNC_DEF if func.view_is_async else DEF
        return None  # a class the method lookup could not see into
    if inspect.isroutine(func):
        return ASYNC_DEF if _is_async(entry) else DEF
    if callable(func) and inspect.isroutine(type(func).__call__):  # a callable object
        return ASYNC_DEF if _is_async(type(func).__call__) else DEF
    return None


if __name__ == "__main__":
    main()
