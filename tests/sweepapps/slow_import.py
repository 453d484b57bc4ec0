"""An app whose import takes 30 s: longer than a short --startup-timeout allows."""

import time

time.sleep(30)

app = None
