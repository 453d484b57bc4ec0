"""Presenting results: terminal tables, HTML, compare, exports. Nothing here measures."""
