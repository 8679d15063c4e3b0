"""The garbage collector of a serving process (``bff serve``, issue 11).

A request's objects are freed by reference counting once it is answered (no cycle of ours holds
them), so the collector's work is mostly walking live objects: the whole startup heap (schema,
modules, services) at every full collection, and the objects of the requests in flight at every
young collection, which Python's default starts every 700 net allocations: many times per page.
So the startup heap is frozen out of its walks, and young collections come less often.

Measured on the home / order-page bench (``bench/cpu.py``, docs/benchmarks.md): collections took
13 % of the BFF's CPU with the per-request cycles, 8 % without them, about 1 % with this too.
"""

from __future__ import annotations

import gc


def tune_for_serving(young_threshold: int) -> None:
    """Freeze what exists now (call once the app is built); ``young_threshold`` > 0: net
    allocations between young collections (Python's default 700), the older generations'
    thresholds unchanged."""
    gc.collect()
    gc.freeze()
    if young_threshold > 0:
        _, middle, oldest = gc.get_threshold()
        gc.set_threshold(young_threshold, middle, oldest)
