"""Cost estimates from a small, dated price table, with the Message Batches 50% discount.

Every model of the capability table (`_modes.CAPABILITY_TABLE`) has a price here, except the
two for which no price is published in our sources (Fable 5.0 and the Mythos models); those, and
any model the table does not know, get tokens only: a wrong price is worse than none. Ids match
exactly after the `claude-` prefix, a date suffix (`-20251101`, `@20251101`) and `-latest` are
removed, so a future `opus-4-9` is "unknown", never priced as its neighbour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._outcome import Usage

#: The date the table was last checked against its sources.
PRICES_CHECKED = "2026-12-02"
# The Message Batches API bills 50% of list prices on all usage, cache multipliers stacking
# [reference section 1, BP FAQ]; BATCH_DISCOUNT applies it.
BATCH_DISCOUNT = 0.5
# Where a model page gives no cache prices: 5-minute cache writes cost 1.25x input and cache
# reads 0.1x input (prompt-caching docs; reference section 8, last paragraph).
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1


@dataclass(frozen=True, slots=True)
class Price:
    """List price of one model, US$ per million tokens. Cache prices default to the usual
    multipliers of `input`; `note` says what the estimate cannot know (tiers, sources)."""

    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None
    note: str = ""

    @property
    def write_per_m(self) -> float:
        return self.cache_write if self.cache_write is not None else self.input * CACHE_WRITE_FACTOR

    @property
    def read_per_m(self) -> float:
        return self.cache_read if self.cache_read is not None else self.input * CACHE_READ_FACTOR


_TIERED = "Haiku 5.5 costs 0.50/2.50 for prompts over 100K tokens; the estimate assumes smaller ones"
_LEGACY_PAGE = "price from Anthropic's pricing page (legacy models), not in the 2026-12-02 reference table"

# Keys are model families: the id without "claude-" and without a date suffix.
PRICE_TABLE: dict[str, Price] = {
    # Current models: reference section 8 (each model's overview page, "Pricing" box, 2026-12-02).
    "opus-5-5": Price(4.0, 20.0, cache_write=5.0, cache_read=0.20),
    "sonnet-5-5": Price(2.0, 10.0, cache_write=2.50, cache_read=0.20),
    "haiku-5-5": Price(0.10, 0.50, note=_TIERED),  # section 8 "from 0.10 / from 0.50", tiers in section 5
    "fable-5-1": Price(10.0, 50.0),  # section 8
    "fable-5-2": Price(8.0, 40.0),  # section 5 (models table, list price)
    # Legacy models still served: reference section 8.
    "opus-5": Price(5.0, 25.0, cache_write=6.25, cache_read=0.50),
    "sonnet-5": Price(2.0, 10.0, cache_write=2.50, cache_read=0.20),  # the model page, not the 3/15 blog
    "opus-4-8": Price(5.0, 25.0),  # section 8: opus 4.8 / 4.7 / 4.6 (third-party lists)
    "opus-4-7": Price(5.0, 25.0),
    "opus-4-6": Price(5.0, 25.0),
    "sonnet-4-6": Price(3.0, 15.0),  # section 8
    "opus-4-5": Price(5.0, 25.0, cache_write=6.25, cache_read=0.50),  # section 8
    "sonnet-4-5": Price(3.0, 15.0),  # section 8
    "haiku-4-5": Price(1.0, 5.0),  # section 8
    # Older models of the capability table ("opus-4", "sonnet-4", "opus-4-1", "3"): not in the
    # reference; list prices from platform.claude.com/docs/en/about-claude/pricing (legacy table).
    "opus-4-1": Price(15.0, 75.0, note=_LEGACY_PAGE),
    "opus-4": Price(15.0, 75.0, note=_LEGACY_PAGE),
    "sonnet-4": Price(3.0, 15.0, note=_LEGACY_PAGE),
    "3-7-sonnet": Price(3.0, 15.0, note=_LEGACY_PAGE),
    "3-5-sonnet": Price(3.0, 15.0, note=_LEGACY_PAGE),
    "3-5-haiku": Price(0.80, 4.0, note=_LEGACY_PAGE),
    "3-opus": Price(15.0, 75.0, note=_LEGACY_PAGE),
    "3-sonnet": Price(3.0, 15.0, note=_LEGACY_PAGE),
    "3-haiku": Price(0.25, 1.25, note=_LEGACY_PAGE),
    # Not priced: "fable-5" (5.0) and "mythos-*" have no published price in our sources.
}

_SUFFIX = re.compile(r"(?:[-@]\d{8}|-latest|-v\d+(?::\d+)?)$")


def family(model: str) -> str:
    """`claude-opus-4-5-20251101` -> `opus-4-5` (also Bedrock's `anthropic.` and Vertex's `@date`)."""
    name = model.strip().lower().removeprefix("anthropic.").removeprefix("claude-")
    while True:
        shorter = _SUFFIX.sub("", name)
        if shorter == name:
            return name
        name = shorter


def price_for(model: str) -> Price | None:
    """The list price of `model`, or None when the table has no price for it."""
    return PRICE_TABLE.get(family(model))


def batch_price_per_million(model: str) -> tuple[float, float] | None:
    """US$ per million input and output tokens through the Batches API (list x 0.5), or None."""
    price = price_for(model)
    if price is None:
        return None
    return price.input * BATCH_DISCOUNT, price.output * BATCH_DISCOUNT


def batch_cost(model: str, usage: Usage) -> float | None:
    """Estimated US$ for `usage` through the Batches API, or None for a model without a price."""
    price = price_for(model)
    if price is None:
        return None
    total = (
        usage.input_tokens * price.input
        + usage.cache_creation_input_tokens * price.write_per_m
        + usage.cache_read_input_tokens * price.read_per_m
        + usage.output_tokens * price.output
    ) / 1e6
    return total * BATCH_DISCOUNT
