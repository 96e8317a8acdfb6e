"""Capturing price changes from the source (Odoo pricelists) into change sets.

Like stock: a `write_date` poll with a durable cursor (`poll`), a full comparison against the
current versions (`snapshot`, the safety net that also catches deleted rules), and webhook
notifications that only trigger a poll (Odoo does not retry them). One pricelist write burst with
one effective window becomes one change set for every channel following that pricelist.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime

from channelhub.service.pricing.context import PricingContext, PricingError
from channelhub.service.pricing.governance import PriceGovernance, ProposedPrice
from channelhub.service.pricing.ports import PricelistChange, PriceSource, SourcePrice
from channelhub.service.pricing.records import ChangeSet
from channelhub.store.repositories import StateRepositories

CURSOR_NAME = "pricing.pricelist_items"
PRICELIST_ITEM_MODEL = "product.pricelist.item"


class PriceCapture:
    def __init__(self, context: PricingContext, governance: PriceGovernance) -> None:
        self.context = context
        self.governance = governance

    def _source(self) -> PriceSource:
        if self.context.source is None:
            raise PricingError("no price source configured (the Odoo connection is missing)")
        return self.context.source

    async def poll(self, *, limit: int = 1000, max_batches: int = 20) -> list[ChangeSet]:
        """Read pricelist changes after the cursor and propose them; returns the new change sets."""
        source = self._source()
        created: list[ChangeSet] = []
        for _ in range(max_batches):
            with self.context.unit() as unit:
                cursor = StateRepositories.on(unit.connection).cursors.get(CURSOR_NAME)
            batch = await source.price_changes_since(cursor, limit=limit)
            for change in batch.changes:
                created.extend(await self._propose_change(change))
            with self.context.unit() as unit:
                StateRepositories.on(unit.connection).cursors.set(
                    CURSOR_NAME, batch.cursor, self.context.clock.now()
                )
            if not batch.has_more:
                break
        return created

    async def on_notification(self, model: str) -> list[ChangeSet]:
        """An Odoo webhook said a record changed: poll now (the notification carries no price)."""
        return await self.poll() if model == PRICELIST_ITEM_MODEL else []

    async def snapshot(self, proposed_by: str | None = None) -> list[ChangeSet]:
        """Compare every followed pricelist's current prices with the channels' current versions
        and propose the differences (one change set per pricelist)."""
        source = self._source()
        settings = self.context.settings
        now = self.context.clock.now()
        created: list[ChangeSet] = []
        pricelists = sorted({c.pricelist for c in settings.channels.values() if c.pricelist is not None})
        for pricelist in pricelists:
            currency, prices = await source.prices_at(pricelist, now)
            proposed = [
                ProposedPrice(sku, channel, amount, currency)
                for channel in settings.channels_following(pricelist)
                for sku, amount in sorted(prices.items())
            ]
            digest = _digest(proposed)
            change_set = await self.governance.propose(
                proposed,
                title=f"Pricelist {pricelist} snapshot ({len(prices)} SKUs)",
                proposed_by=proposed_by or settings.proposer,
                source_key=f"snapshot:{pricelist}:{digest}",
                pricelist=str(pricelist),
            )
            if change_set is not None:
                created.append(change_set)
        return created

    async def _propose_change(self, change: PricelistChange) -> list[ChangeSet]:
        channels = self.context.settings.channels_following(change.pricelist)
        if not channels:
            return []
        now = self.context.clock.now()
        with self.context.unit() as unit:
            seen = unit.records.seen_sources(p.ref for p in change.prices if p.ref)
        windows: dict[tuple[datetime | None, datetime | None], list[SourcePrice]] = defaultdict(list)
        for price in change.prices:
            if price.ref is not None and price.ref in seen:
                continue  # re-delivered (the poll re-reads the cursor's last second)
            if price.ends is not None and price.ends <= now:
                continue  # a window already over changes nothing on the channels
            windows[(price.starts, price.ends)].append(price)
        created: list[ChangeSet] = []
        for (starts, ends), prices in sorted(windows.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
            proposed = [
                ProposedPrice(price.sku, channel, price.amount, price.currency, source_ref=price.ref)
                for channel in channels
                for price in sorted(prices, key=lambda p: p.sku)
            ]
            window = ""
            if starts is not None or ends is not None:
                window = f" from {starts or 'now'} until {ends or 'further notice'}"
            change_set = await self.governance.propose(
                proposed,
                title=f"Pricelist {change.pricelist}: {len(prices)} SKU(s){window}",
                proposed_by=change.author or self.context.settings.proposer,
                source_key=f"pricelist:{change.pricelist}:{_digest(proposed)}",
                pricelist=str(change.pricelist),
                effective_from=starts if starts is not None and starts > now else None,
                effective_until=ends,
                captured={
                    "source": f"odoo pricelist {change.pricelist}",
                    "written_by": change.author,
                    "prices": [
                        {"sku": p.sku, "price": str(p.amount), "currency": p.currency, "ref": p.ref}
                        for p in prices
                    ],
                },
            )
            if change_set is not None:
                created.append(change_set)
        return created


def _digest(prices: list[ProposedPrice]) -> str:
    text = "|".join(f"{p.sku}@{p.channel}={p.amount}:{p.source_ref}" for p in prices)
    return hashlib.sha256(text.encode()).hexdigest()[:24]
