"""Never finishes importing, and starts a child process that would outlive a careless parent."""

import subprocess
import sys
import time

subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
time.sleep(3600)

app = None
