"""An app whose import fails, as a user's app with a missing dependency does."""

import nope  # noqa: F401

app = None
