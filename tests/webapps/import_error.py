"""Imports a module that does not exist."""

import gilbench_no_such_module  # noqa: F401

app = None
