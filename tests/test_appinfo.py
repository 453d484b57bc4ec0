"""gilbench.weblab.appinfo: the user's web app inspected in a child process (tests/webapps/ and
the README's examples/webapps/)."""

from __future__ import annotations

import json
import os
import time

import psutil
import pytest

from conftest import ROOT
from gilbench.weblab import UsageError
from gilbench.weblab.appinfo import AppInfo, PathInfo, inspect_app, split_target

WEBAPPS = os.path.join(ROOT, "tests", "webapps")
EXAMPLES = os.path.join(ROOT, "examples", "webapps")


def inspect(target: str, paths: list[str], method: str = "GET", **kwargs) -> AppInfo:
    return inspect_app(target, paths, method, cwd=kwargs.pop("cwd", WEBAPPS), **kwargs)


def by_path(info: AppInfo) -> dict[str, PathInfo]:
    return {p.path: p for p in info.paths}


def kinds(info: AppInfo) -> dict[str, str | None]:
    return {p.path: p.handler_kind for p in info.paths}


FASTAPI_PATHS = ["/sync", "/async", "/items/3", "/nope", "/orders", "/sub/sync", "/sub/things"]


@pytest.fixture(scope="module")
def fastapi_info() -> AppInfo:
    return inspect("fastapi_app:app", [*FASTAPI_PATHS, "/wrapped"])


def test_fastapi_app_is_asgi_and_each_route_has_its_kind(fastapi_info):
    assert (fastapi_info.interface, fastapi_info.framework) == ("asgi", "fastapi")
    paths = by_path(fastapi_info)
    assert [p.path for p in fastapi_info.paths] == [*FASTAPI_PATHS, "/wrapped"]
    assert paths["/sync"] == PathInfo("/sync", "GET", True, "fastapi_app.sync_route", "def")
    assert paths["/async"] == PathInfo(
        "/async", "GET", True, "fastapi_app.async_route", "async def"
    )
    # A decorator with functools.wraps: the function it wraps decides.
    assert paths["/wrapped"].handler_kind == "async def"


def test_fastapi_path_parameters_mounts_and_unknown_paths(fastapi_info):
    paths = by_path(fastapi_info)
    assert paths["/items/3"] == PathInfo("/items/3", "GET", True, "fastapi_app.item", "def")
    assert paths["/nope"] == PathInfo("/nope", "GET", False, None, None)
    assert paths["/orders"].found is False  # POST only: a GET is a 405, not served
    # Mounted Starlette app: a plain function route and an HTTPEndpoint's get method.
    assert paths["/sub/sync"] == PathInfo("/sub/sync", "GET", True, "fastapi_app.sync_view", "def")
    assert paths["/sub/things"] == PathInfo(
        "/sub/things", "GET", True, "fastapi_app.Things.get", "async def"
    )


def test_the_method_picks_the_route():
    info = inspect("fastapi_app:app", ["/orders", "/sync", "/sub/things"], method="post")
    paths = by_path(info)
    assert paths["/orders"] == PathInfo(
        "/orders", "POST", True, "fastapi_app.create_order", "async def"
    )
    assert paths["/sync"].found is False
    assert paths["/sub/things"].handler == "fastapi_app.Things.post"
    assert paths["/sub/things"].handler_kind == "def"


def test_flask_app_is_wsgi_with_its_views():
    info = inspect("flask_app:app", ["/hello", "/async", "/users/7", "/users/x", "/counter"])
    assert (info.interface, info.framework) == ("wsgi", "flask")
    paths = by_path(info)
    assert paths["/hello"] == PathInfo("/hello", "GET", True, "flask_app.hello", "def")
    assert paths["/async"].handler_kind == "async def"
    assert paths["/users/7"] == PathInfo("/users/7", "GET", True, "flask_app.user", "def")
    assert paths["/users/x"].found is False  # <int:user_id> does not match
    assert paths["/counter"] == PathInfo("/counter", "GET", True, "flask_app.Counter.get", "def")


@pytest.mark.parametrize(
    "target, interface",
    [
        ("bare_asgi:app", "asgi"),
        ("bare_asgi:instance", "asgi"),
        ("bare_wsgi:app", "wsgi"),
        ("bare_wsgi:instance", "wsgi"),
    ],
)
def test_bare_callables_are_served_with_unknown_routes(target, interface):
    info = inspect(target, ["/"])
    assert (info.interface, info.framework) == (interface, None)
    assert info.paths == (PathInfo("/", "GET", None, None, None),)


def test_apps_wrapped_in_middleware_keep_their_routes():
    asgi = inspect("middleware_app:app", ["/ping"])
    assert (asgi.interface, asgi.framework) == ("asgi", "fastapi")
    assert asgi.paths[0].handler == "middleware_app.ping"
    wsgi = inspect("middleware_app:wsgi", ["/ping"])
    assert (wsgi.interface, wsgi.framework) == ("wsgi", "flask")
    assert wsgi.paths[0].handler_kind == "def"


def test_the_answer_round_trips_through_json(fastapi_info):
    data = json.loads(json.dumps(fastapi_info.to_dict()))
    assert set(data) == {"interface", "framework", "paths"}
    assert set(data["paths"][0]) == {"path", "method", "found", "handler", "handler_kind"}
    assert AppInfo.from_dict(data) == fastapi_info


@pytest.mark.parametrize(
    "target, says",
    [
        (
            "import_error:app",
            [
                "importing 'import_error' raised ModuleNotFoundError",
                "'gilbench_no_such_module'",
                "(import_error.py:3)",
            ],
        ),
        (
            "raises_at_import:app",
            ["importing 'raises_at_import' raised ZeroDivisionError: division by zero (raises_at_"],
        ),
        ("not_an_app:app", ["not_an_app:app is not an ASGI or WSGI app (an int)"]),
        ("not_an_app:create_app", ["not an ASGI or WSGI app", "taking no arguments"]),
        ("no_such_module:app", ["cannot import 'no_such_module'", "No module named"]),
        ("fastapi_app:nope", ["module 'fastapi_app' has no attribute 'nope'"]),
        ("exits_at_import:app", ["importing 'exits_at_import'", "exit code 3", "giving up"]),
    ],
)
def test_a_broken_app_is_one_line_naming_the_module_and_the_cause(target, says):
    with pytest.raises(UsageError) as caught:
        inspect(target, ["/"])
    message = str(caught.value)
    assert "\n" not in message
    for text in says:
        assert text in message


@pytest.mark.parametrize("target", ["fastapi_app", "fastapi_app:", ":app", "a:b:c"])
def test_a_malformed_target_is_refused_before_anything_runs(target):
    with pytest.raises(UsageError, match="MODULE:APP"):
        split_target(target)
    with pytest.raises(UsageError, match="MODULE:APP"):
        inspect(target, ["/"])


def test_a_dotted_attribute_is_followed():
    assert split_target("pkg.mod:factory.app") == ("pkg.mod", "factory.app")
    with pytest.raises(UsageError, match="'fastapi_app:app' has no attribute 'nope'"):
        inspect("fastapi_app:app.nope", ["/"])


def test_an_import_that_hangs_times_out_and_leaves_nothing_running(no_leftovers):
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    started = time.monotonic()
    with pytest.raises(UsageError) as caught:
        inspect("hangs_at_import:app", ["/"], timeout=1.5)
    assert time.monotonic() - started < 1.5 + 5
    assert "importing 'hangs_at_import' did not finish in 1.5 s" in str(caught.value)
    # The child and the process its import started (same process group) are gone; the
    # no_leftovers fixture also finds the grandchild if it was reparented.
    deadline = time.monotonic() + 3
    while True:
        left = [_cmdline(p) for p in me.children(recursive=True) if p.pid not in before]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not left, left


def test_a_hang_names_the_option_that_set_the_timeout(no_leftovers):
    started = time.monotonic()
    with pytest.raises(UsageError) as caught:
        inspect("hangs_at_import:app", ["/"], timeout=1.5, timeout_option="--startup-timeout")
    assert time.monotonic() - started < 1.5 + 5
    message = str(caught.value)
    assert "importing 'hangs_at_import' did not finish in 1.5 s" in message
    assert "the limit --startup-timeout sets" in message
    assert message.endswith("if the import is only slow, raise --startup-timeout")


def test_a_wsgi_app_given_as_a_dotted_attribute_is_refused_naming_the_target_to_give():
    # Gunicorn's util.import_app parses the attribute as one name (or a call), never a.b.
    with pytest.raises(UsageError) as caught:
        inspect("flask_app:app.wsgi_app", ["/hello"])
    message = str(caught.value)
    assert "\n" not in message
    assert "--app flask_app:app.wsgi_app: gunicorn takes MODULE:NAME" in message
    assert message.endswith("give --app flask_app:app (the app calls its wsgi_app)")
    with pytest.raises(UsageError) as caught:
        inspect("middleware_app:wsgi.app", ["/ping"])
    assert "bind the app to a name in middleware_app (e.g. app = wsgi.app)" in str(caught.value)
    # uvicorn follows dots: a dotted ASGI app is served.
    assert inspect("middleware_app:app.app", ["/ping"]).interface == "asgi"


def _cmdline(p: psutil.Process) -> str:
    try:
        return " ".join(p.cmdline())
    except psutil.Error:
        return str(p.pid)


def test_the_fastapi_example():
    paths = ["/cpu", "/io", "/async-io", "/async-blocking", "/db"]
    info = inspect("shop_fastapi:app", paths, cwd=EXAMPLES)
    assert (info.interface, info.framework) == ("asgi", "fastapi")
    assert all(p.found for p in info.paths)
    assert kinds(info) == {
        "/cpu": "def",
        "/io": "def",
        "/async-io": "async def",
        "/async-blocking": "async def",
        "/db": "def",
    }


def test_the_flask_example():
    info = inspect("shop_flask:app", ["/cpu", "/io", "/db"], cwd=EXAMPLES)
    assert (info.interface, info.framework) == ("wsgi", "flask")
    assert [(p.found, p.handler_kind) for p in info.paths] == [(True, "def")] * 3
    assert by_path(info)["/db"].handler == "shop_flask.db"


def test_what_a_successful_import_started_is_ended(no_leftovers):
    info = inspect("spawns_at_import:app", ["/"])
    assert info.interface == "wsgi"
