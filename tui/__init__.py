"""The Textual user interface and the ``tssg-crm`` command line."""

import time

# Taken when the package is first imported (the CLI lives in it), so "started in N ms"
# in the log counts the imports too, as the user experiences it.
START_TIME_NS = time.perf_counter_ns()
