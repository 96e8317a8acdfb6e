"""Partition leases: which worker handles which slice of the key space.

Every key hashes to one of `PARTITIONS` partitions. A worker handles only partitions it holds a
lease on, and a partition has at most one live lease, so all events of a key flow through one
worker at a time, in log order: per-key order without per-event locks, and parallel across keys.
Leases expire: a worker that crashes stops renewing, and after `lease_s` its partitions are free
to claim (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so claiming workers never queue on each other).
Workers balance themselves: each aims at ceil(partitions / live workers) and gives back surplus
partitions between batches, never in the middle of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa

from channelhub.engine.sql import LogSql
from channelhub.store.log_tables import PARTITIONS


@dataclass(frozen=True)
class LeasePlan:
    claim: int
    release: int


def plan_leases(owned: int, live_workers: int, partitions: int = PARTITIONS) -> LeasePlan:
    """How many partitions to claim or give back to reach this worker's fair share."""
    fair = math.ceil(partitions / max(1, live_workers))
    if owned < fair:
        return LeasePlan(claim=fair - owned, release=0)
    return LeasePlan(claim=0, release=owned - fair)


class PartitionLeases:
    """The partitions one worker holds, kept alive in the database."""

    def __init__(self, worker_id: str, sql: LogSql, lease_s: float) -> None:
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        self.worker_id = worker_id
        self.sql = sql
        self.lease_s = lease_s
        self.owned: list[int] = []
        self.expires_at = 0.0

    def maintain(self, connection: sa.Connection, now: float) -> None:
        """Heartbeat, renew what we hold, then claim or release towards the fair share."""
        sql, until = self.sql, now + self.lease_s
        with connection.begin():
            connection.exec_driver_sql(sql["worker_seen"], {"me": self.worker_id, "now": now, "until": until})
            connection.exec_driver_sql(sql["forget_stale_workers"], {"before": now - 10 * self.lease_s})
            if self.owned:
                renewed = connection.exec_driver_sql(
                    sql["renew_partitions"],
                    {"me": self.worker_id, "until": until, "parts": sql.ids(self.owned)},
                )
                # A partition missing here was taken over after our lease ran out: stop using it.
                self.owned = sorted(row[0] for row in renewed)
            live = connection.exec_driver_sql(sql["live_workers"], {"now": now}).scalar_one()
            plan = plan_leases(len(self.owned), int(live))
            if plan.claim:
                claimed = connection.exec_driver_sql(
                    sql["claim_partitions"],
                    {"me": self.worker_id, "until": until, "now": now, "limit": plan.claim},
                )
                self.owned = sorted({*self.owned, *(row[0] for row in claimed)})
            elif plan.release:
                surplus = self.owned[-plan.release :]
                connection.exec_driver_sql(
                    sql["release_partitions"], {"me": self.worker_id, "parts": sql.ids(surplus)}
                )
                self.owned = self.owned[: -plan.release]
        self.expires_at = until

    def release_all(self, connection: sa.Connection) -> None:
        """Give everything back at once (clean shutdown: no waiting for expiry)."""
        with connection.begin():
            if self.owned:
                connection.exec_driver_sql(
                    self.sql["release_partitions"], {"me": self.worker_id, "parts": self.sql.ids(self.owned)}
                )
            connection.exec_driver_sql(self.sql["forget_worker"], {"me": self.worker_id})
        self.owned = []
