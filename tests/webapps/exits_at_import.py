"""Ends its process while being imported (as a crashing C extension would)."""

import os
import sys

print("exits_at_import: giving up", file=sys.stderr)
os._exit(3)
