"""The local replica of the post's slow API: real HTTP on loopback, bad input answered with 400."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import psutil
import pytest

from gilbench.services.delay_server import MAX_DELAY_S, DelayServer


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def server():
    with DelayServer() as srv:
        yield srv


def test_delay_waits_and_echoes_like_httpbin(server: DelayServer) -> None:
    start = time.perf_counter()
    status, body = get(f"{server.url}/delay/0.3?who=test")
    elapsed = time.perf_counter() - start
    assert status == 200 and body["args"] == {"who": "test"}
    assert elapsed >= 0.3


@pytest.mark.parametrize(
    "path",
    [
        "/delay/abc",
        "/delay/nan",
        "/delay/inf",
        "/doc?delay=abc",
        "/doc?delay=nan",
        "/doc?items=x",
        "/doc?seed=1.5",
    ],
)
def test_bad_input_is_a_400_with_a_reason(server: DelayServer, path: str) -> None:
    status, body = get(server.url + path)
    assert status == 400 and body["error"]


def test_doc_is_deterministic_per_seed_and_clamps_items(server: DelayServer) -> None:
    _, one = get(f"{server.url}/doc?items=3&seed=7")
    _, again = get(f"{server.url}/doc?items=3&seed=7")
    _, other = get(f"{server.url}/doc?items=3&seed=8")
    _, none = get(f"{server.url}/doc?items=-5")
    assert one == again and one != other
    assert len(one["items"]) == 3 and none == {"items": []}
    assert MAX_DELAY_S >= 2  # the post's /delay/2 fits under the cap


def test_binds_loopback_only(server: DelayServer) -> None:
    assert server.proc is not None
    ports = [
        c.laddr
        for c in psutil.Process(server.proc.pid).net_connections(kind="inet")
        if c.status == "LISTEN"
    ]
    assert ports and all(addr.ip == "127.0.0.1" for addr in ports)
