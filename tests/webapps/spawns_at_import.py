"""A valid app whose import starts a background process that never ends on its own."""

import subprocess
import sys

_sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
