"""Format one log line: a few microseconds of work.

Handing a task this small to a thread or a process costs more than doing it, so the answer
is to keep it sequential (or batch many lines per task). Bench it:

    gilbench bench tiny:format_line --args '["GET", "/api/items", 200, 0.0123]'
"""


def format_line(method: str, path: str, status: int, seconds: float) -> str:
    """One access-log line, e.g. "GET /api/items -> 200 in 12.3 ms"."""
    return f"{method} {path} -> {status} in {seconds * 1000:.1f} ms"
