"""The recent reconciliation runs (scheduled and on demand) with their diffs, kept in memory.

The scheduled job passes `history.record` as its `on_report`; the admin API records the runs it
starts. The newest `keep` runs are kept: enough to see what drifted today, small enough to hold.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from channelhub.engine.reconcile import ReconciliationReport


@dataclass(frozen=True)
class RecordedRun:
    run_id: int
    trigger: str
    report: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        report = self.report
        keys = ("dry_run", "started_at", "finished_at", "checked", "differences", "fixed", "clean")
        return {
            "run_id": self.run_id,
            "trigger": self.trigger,
            **{key: report.get(key) for key in keys},
            "drift": sum(1 for diff in report.get("diffs", []) if diff.get("kind") == "drift"),
            "errors": {c["channel"]: c["error"] for c in report.get("channels", []) if c.get("error")},
        }


class ReconciliationHistory:
    def __init__(self, keep: int = 200) -> None:
        self._lock = threading.Lock()
        self._runs: deque[RecordedRun] = deque(maxlen=keep)
        self._next_id = 1

    def record(self, report: ReconciliationReport, trigger: str = "schedule") -> RecordedRun:
        return self.record_dict(report.to_dict(), trigger)

    def record_dict(self, report: dict[str, Any], trigger: str) -> RecordedRun:
        with self._lock:
            run = RecordedRun(self._next_id, trigger, report)
            self._next_id += 1
            self._runs.append(run)
        return run

    def runs(self) -> list[RecordedRun]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._runs))

    def get(self, run_id: int) -> RecordedRun | None:
        with self._lock:
            return next((run for run in self._runs if run.run_id == run_id), None)
