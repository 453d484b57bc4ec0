"""Services gilbench starts for itself: the delay server, PostgreSQL, the web lab's app."""
