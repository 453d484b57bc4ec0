"""CPU-bound work in C code that holds the GIL: the standard library's ``json`` and ``re``.

Their inner loops are C, yet neither releases the GIL while it works, so threads scale no
better than pure Python (``cpu.count``) does and only processes help. What tells them apart
from Python code is how long the GIL is held at a stretch: Python hands it over every switch
interval (5 ms), one C call holds it until it returns. So each call here is a long one
(tens of milliseconds: a 4.5 MB document, a 13 MB log), as in a real batch job.
"""

from __future__ import annotations

import json
import random
import re
import zlib
from collections import Counter
from functools import cache

from gilbench.workloads import Call, Knob, Workload, register

DOC_RECORDS = 10_000
LOG_LINES = 100_000


@cache
def _document() -> dict:
    """A nested API-like document (~4.5 MB of JSON) with escapes, floats and unicode to encode."""
    rng = random.Random(1234)
    words = [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
        "zeta",
        "naïve",
        "café",
        'quote"d',
        "tab\there",
    ]
    base = [
        {
            "id": i,
            "name": " ".join(rng.choice(words) for _ in range(4)),
            "score": rng.random() * 1000,
            "active": rng.random() < 0.5,
            "tags": [rng.choice(words) for _ in range(5)],
            "address": {
                "street": f"{rng.randrange(1, 999)} Main St",
                "zip": f"{rng.randrange(10**5):05d}",
                "geo": [rng.uniform(-90, 90), rng.uniform(-180, 180)],
            },
            "history": [
                {"t": 1_700_000_000 + j * 3600, "v": rng.randrange(-500, 500)} for j in range(6)
            ],
        }
        for i in range(200)
    ]
    # 200 distinct records, repeated with their own ids: building it stays cheap, encoding does not.
    return {
        "page": 1,
        "records": [dict(r, id=i) for i, r in enumerate(base * (DOC_RECORDS // len(base)))],
    }


def json_roundtrip(docs: int) -> dict:
    """Encode and decode the document ``docs`` times with the C-accelerated stdlib json.
    Returns ``docs``, the JSON text's length in ``chars``, the decoded ``records`` count and
    the text's ``crc32`` (a checksum that tells a wrong result)."""
    doc = _document()
    text, back = "", {}
    for _ in range(docs):
        text = json.dumps(doc)
        back = json.loads(text)
    return {
        "docs": docs,
        "chars": len(text),
        "records": len(back.get("records", ())),
        "crc32": zlib.crc32(text.encode()),
    }


# Apache "combined" log format: host ident user [time] "request" status bytes "referer" "agent";
# the whole line is matched, status and bytes captured.
LOG_LINE = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]+\] "[A-Z]+ [^" ]+ HTTP/[\d.]+" (\d{3}) (\d+|-) "[^"]*" "[^"]*"$',
    re.MULTILINE,
)


@cache
def _log_block() -> str:
    """LOG_LINES access-log lines (1,000 distinct ones, repeated), the same every time."""
    rng = random.Random(42)
    paths = [
        "/",
        "/api/items",
        "/api/items/42",
        "/login",
        "/static/app.js",
        "/search?q=gil",
        "/health",
    ]
    agents = [
        "Mozilla/5.0 (X11; Linux x86_64)",
        "curl/8.5.0",
        "python-requests/2.32",
        "Go-http-client/1.1",
    ]
    lines = []
    for i in range(1000):
        size = str(rng.randrange(100, 50_000)) if rng.random() < 0.9 else "-"
        lines.append(
            f"10.0.{rng.randrange(256)}.{rng.randrange(256)} - user{rng.randrange(50)} "
            f"[10/Oct/2024:13:{i % 60:02d}:{rng.randrange(60):02d} +0000] "
            f'"{rng.choice(["GET", "GET", "GET", "POST", "PUT"])} {rng.choice(paths)} HTTP/1.1" '
            f"{rng.choice([200, 200, 200, 201, 301, 404, 500])} {size} "
            f'"https://example.com/" "{rng.choice(agents)}"'
        )
    return "\n".join(lines * (LOG_LINES // len(lines)))


def parse_logs(blocks: int) -> dict:
    """Parse ``blocks`` x LOG_LINES log lines with one ``re`` pattern. Returns the matched
    ``lines``, a count per HTTP ``status`` (sorted) and the total response ``bytes``."""
    text = _log_block()
    status: Counter[str] = Counter()
    sent = lines = 0
    for _ in range(blocks):
        found = LOG_LINE.findall(text)  # one call: the regex engine's C loop over the block
        lines += len(found)
        status.update(code for code, _ in found)
        sent += sum(int(size) for _, size in found if size != "-")
    return {"lines": lines, "status": dict(sorted(status.items())), "bytes": sent}


register(
    Workload(
        name="cpu.json",
        family="cpu",
        summary=(
            "encode + decode a 4.5 MB nested document with the stdlib json "
            "(C code that holds the GIL)"
        ),
        make_call=lambda p, s: Call(
            "gilbench.workloads.data:json_roundtrip", kwargs={"docs": int(p["docs"])}
        ),
        knob=Knob(
            "docs",
            None,
            f"{DOC_RECORDS:,}-record documents encoded and decoded per task",
            calibrate_from=1,
        ),
    )
)

register(
    Workload(
        name="cpu.regex",
        family="cpu",
        summary=(
            f"parse a {LOG_LINES:,}-line access log with one re.findall (C code that holds the GIL)"
        ),
        make_call=lambda p, s: Call(
            "gilbench.workloads.data:parse_logs", kwargs={"blocks": int(p["blocks"])}
        ),
        knob=Knob("blocks", None, f"{LOG_LINES:,}-line logs parsed per task", calibrate_from=1),
    )
)
