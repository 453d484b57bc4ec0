"""An app whose import fails."""

import no_such_module_for_gilbench  # noqa: F401

app = None
