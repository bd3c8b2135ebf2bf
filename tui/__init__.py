"""The Textual user interface and the ``tssg-crm`` command line."""

import os
import time

# Taken when the package is first imported (the CLI lives in it), so "started in N ms"
# in the log counts the imports too, as the user experiences it.
START_TIME_NS = time.perf_counter_ns()

# Textual batches screen updates at most TEXTUAL_FPS times a second (60 by default): a
# keystroke's search hits then wait up to 17 ms for their frame, more than the search takes.
# 120 halves that wait (bench/search_keys.py); set TEXTUAL_FPS to choose another rate. Set
# here, before Textual is imported (textual.constants reads it once).
os.environ.setdefault("TEXTUAL_FPS", "120")
