"""Cursor pagination as the API does it for batches and models [SDK pagination.py].

Lists are newest first. `after_id` returns the page right after a cursor (older items),
`before_id` the page right before it (newer items); `has_more` says whether more items lie
beyond the page in the direction of travel, and `first_id`/`last_id` name the page's ends, which
the SDK feeds back as the next cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._wire import invalid_request


def parse_page_params(query: Mapping[str, list[str]]) -> tuple[int, str | None, str | None]:
    """`limit` (1-1000, default 20), `after_id`, `before_id` from a parsed query string."""
    raw = query.get("limit", ["20"])[-1]
    try:
        limit = int(raw)
    except ValueError:
        raise invalid_request(
            "limit: Input should be a valid integer, unable to parse string as an integer"
        ) from None
    if limit < 1:
        raise invalid_request("limit: Input should be greater than or equal to 1")
    if limit > 1000:
        raise invalid_request("limit: Input should be less than or equal to 1000")
    after_id = query.get("after_id", [None])[-1]
    before_id = query.get("before_id", [None])[-1]
    if after_id is not None and before_id is not None:
        raise invalid_request("after_id and before_id cannot both be set")
    return limit, after_id, before_id


def paginate(
    ids_newest_first: Sequence[str],
    *,
    limit: int,
    after_id: str | None,
    before_id: str | None,
    visible: Callable[[str], bool] = lambda _: True,
) -> tuple[list[str], bool]:
    """The ids on the requested page (newest first) and `has_more`.

    `visible` hides items (deleted batches) while keeping them usable as cursors.
    """
    position = {item: index for index, item in enumerate(ids_newest_first)}
    for name, cursor in (("after_id", after_id), ("before_id", before_id)):
        if cursor is not None and cursor not in position:
            raise invalid_request(f"{name}: no object with id {cursor!r}")
    if after_id is not None:
        candidates = list(ids_newest_first[position[after_id] + 1 :])
    elif before_id is not None:
        candidates = list(reversed(ids_newest_first[: position[before_id]]))
    else:
        candidates = list(ids_newest_first)
    live = [item for item in candidates if visible(item)]
    page = live[:limit]
    if before_id is not None:
        page.reverse()
    return page, len(live) > limit


def page_body(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    """The page object: `data`, `has_more`, `first_id`, `last_id`."""
    return {
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "has_more": has_more,
        "last_id": data[-1]["id"] if data else None,
    }
