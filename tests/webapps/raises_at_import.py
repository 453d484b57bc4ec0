"""Raises while being imported."""

ratio = 1 / 0

app = None
