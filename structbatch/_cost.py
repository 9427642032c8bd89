"""Cost estimates from a small, dated price table, with the Message Batches 50% discount.

Unknown models get tokens only: a wrong price is worse than none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._outcome import Usage

# US$ per million tokens at list (standard) prices; checked 2026-11-25 against
# ../shared/reference/anthropic-api.md section 5 (models' overview pages and the pricing page).
# Cache writes (5-minute TTL) cost 1.25x input and cache reads 0.1x input (prompt-caching docs).
# The Message Batches API bills 50% of these on all usage [BP FAQ]; BATCH_DISCOUNT applies it.
PRICES_CHECKED = "2026-11-25"
BATCH_DISCOUNT = 0.5
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.1


@dataclass(frozen=True, slots=True)
class Price:
    """List price of one model, US$ per million input and output tokens."""

    input: float
    output: float


PRICE_TABLE: dict[str, Price] = {
    "fable-5-2": Price(8.0, 40.0),
    "opus-5-5": Price(4.0, 20.0),
    "sonnet-5-5": Price(2.0, 10.0),
    # Haiku 5.5 is 0.10/0.50 up to 100K-token prompts; batch prompts that large are rare and the
    # estimate says so in the README.
    "haiku-5-5": Price(0.10, 0.50),
    "opus-5": Price(5.0, 25.0),
    "opus-4-8": Price(5.0, 25.0),
    "opus-4-7": Price(5.0, 25.0),
    "opus-4-6": Price(5.0, 25.0),
    "haiku-4-5": Price(1.0, 5.0),
}


def price_for(model: str) -> Price | None:
    """The list price of `model` (dated ids and the `claude-` prefix are ignored), or None."""
    family = re.sub(r"-\d{8}$", "", model.strip().lower().removeprefix("claude-"))
    return PRICE_TABLE.get(family)


def batch_cost(model: str, usage: Usage) -> float | None:
    """Estimated US$ for `usage` through the Batches API, or None for a model not in the table."""
    price = price_for(model)
    if price is None:
        return None
    per_token_in = price.input / 1e6
    total = (
        usage.input_tokens * per_token_in
        + usage.cache_creation_input_tokens * per_token_in * CACHE_WRITE_FACTOR
        + usage.cache_read_input_tokens * per_token_in * CACHE_READ_FACTOR
        + usage.output_tokens * price.output / 1e6
    )
    return total * BATCH_DISCOUNT
