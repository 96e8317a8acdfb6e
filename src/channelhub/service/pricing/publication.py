"""Publishing one change set's prices to one channel: all or nothing, read back and verified.

Channels have no transactions, so "all or nothing" is built: push every price, read every SKU
back, retry what does not show the wanted price; if the channel still disagrees after the last
attempt, put back the previous price of every SKU that did change (compensation) and report the
channel as failed. The caller then holds the change set as a business exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from channelhub.clock import Clock
from channelhub.connectors.errors import ConnectorError
from channelhub.service.pricing.ports import PricePublisher

CENT = Decimal("0.01")


@dataclass
class ChannelOutcome:
    channel: str
    ok: bool
    attempts: int = 0
    problems: dict[str, str] = field(default_factory=dict)  # SKU → what went wrong (last attempt)
    compensated: list[str] = field(default_factory=list)  # SKUs put back to their previous price

    def describe(self) -> str:
        if self.ok:
            return f"{self.channel}: verified after {self.attempts} attempt(s)"
        shown = "; ".join(f"{sku}: {problem}" for sku, problem in sorted(self.problems.items())[:5])
        more = f" (+{len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        return f"{self.channel}: failed after {self.attempts} attempt(s): {shown}{more}"


def _same(a: Decimal | None, b: Decimal) -> bool:
    return a is not None and a.quantize(CENT) == b.quantize(CENT)


async def publish_channel(
    publisher: PricePublisher,
    wanted: Mapping[str, Decimal],
    previous: Mapping[str, Decimal | None],
    *,
    clock: Clock,
    max_attempts: int,
    retry_delay_s: float,
) -> ChannelOutcome:
    """Make `publisher`'s channel show `wanted` (SKU → price) for every SKU, or none of them."""
    outcome = ChannelOutcome(publisher.channel, ok=False)
    pending = dict(wanted)
    for attempt in range(1, max_attempts + 1):
        outcome.attempts = attempt
        outcome.problems = {}
        permanent = False
        try:
            results = await publisher.set_prices(pending)
            for sku, result in results.items():
                if not result.applied:
                    outcome.problems[sku] = result.error or "not applied"
                    permanent = permanent or not result.transient
        except ConnectorError as error:
            outcome.problems = {sku: str(error) for sku in pending}
            permanent = not error.transient
        try:
            shown = await publisher.read_prices(sorted(wanted))
        except ConnectorError as error:
            outcome.problems.update({sku: f"read back failed: {error}" for sku in wanted})
            shown = {}
        mismatched = {sku for sku, price in wanted.items() if not _same(shown.get(sku), price)}
        for sku in mismatched:
            if sku not in outcome.problems:
                found = shown.get(sku)
                outcome.problems[sku] = (
                    "not listed on the channel"
                    if found is None
                    else (f"reads back {found}, wanted {wanted[sku]}")
                )
        if not mismatched:
            outcome.ok = True
            outcome.problems = {}
            return outcome
        pending = {sku: wanted[sku] for sku in mismatched}
        if permanent and attempt >= 2:
            break  # a refusal that repeats will not change with more attempts
        if attempt < max_attempts:
            await clock.sleep(retry_delay_s * attempt)
    changed = {
        sku: old for sku, old in previous.items() if old is not None and sku in wanted and sku not in pending
    }
    if changed:
        try:
            await publisher.set_prices(changed)
            outcome.compensated = sorted(changed)
        except ConnectorError as error:
            outcome.problems["(compensation)"] = f"could not put previous prices back: {error}"
    return outcome
