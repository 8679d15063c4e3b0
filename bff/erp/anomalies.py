"""Values of a shape nobody foresaw, counted per (form, field) and logged by name only.

The live ERP's field shapes are partly unknown (see docs/erp-protocol.md): an odd value
degrades its own field, never the page. Each degradation is counted here (read by
``bff_erp_anomalies_total{form, field}`` and the dashboard) and logged at most once a
minute per (form, field), with the field's name and never its value (values may be
personal data).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

logger = logging.getLogger("bff.erp")

LOG_EVERY_S = 60.0
RECORD = "_record"  # the "field" of a record skipped for want of its identity


class Anomalies:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.counts: Counter[tuple[int, str]] = Counter()
        self._logged_at: dict[tuple[int, str], float] = {}

    def record(self, form_id: int, field: str) -> None:
        key = (form_id, field)
        self.counts[key] += 1
        now = self._clock()
        last = self._logged_at.get(key)
        if last is None or now - last >= LOG_EVERY_S:
            self._logged_at[key] = now
            what = "record skipped: no identity" if field == RECORD else "field degraded: unforeseen shape"
            logger.warning("erp %s form=%s field=%s count=%d", what, form_id, field, self.counts[key])

    def snapshot(self) -> list[tuple[int, str, int]]:
        """(form, field, count), most frequent first."""
        return [(form, field, n) for (form, field), n in self.counts.most_common()]
