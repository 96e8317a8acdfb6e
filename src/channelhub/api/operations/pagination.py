"""Cursor pagination: `?limit=N&cursor=C`, answered as `{"items": [...], "next_cursor": C | null}`.

A cursor is an opaque, URL-safe encoding of the last key seen. Cursors stay valid while rows are
added or removed (unlike offsets, which skip or repeat rows under a live queue).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Path, Query

from channelhub.api.errors import ApiError

MAX_ID = 2**63 - 1
"""Ids and sequence numbers are 64-bit in the database: larger numbers cannot name anything."""
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id.")]
LIMIT = Query(default=50, ge=1, le=500, description="Items per page.")
CURSOR = Query(default=None, max_length=500, description="`next_cursor` of the previous page.")


def encode_cursor(last: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(last, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, kind: type | tuple[type, ...] = int) -> Any:
    """The key after which the page starts, None for the first page; 400 when not ours."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_cursor", "the cursor is not one this API returned") from None
    if isinstance(value, list):
        value = tuple(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ApiError(400, "invalid_cursor", "the cursor is not one this API returned")
    if isinstance(value, int) and not 0 <= value <= MAX_ID:
        raise ApiError(400, "invalid_cursor", "the cursor is not one this API returned")
    return value


def page(items: Sequence[dict[str, Any]], limit: int, last_key: Any) -> dict[str, Any]:
    """`items` was fetched with limit + 1 rows: the extra row only tells that there is more."""
    more = len(items) > limit
    shown = list(items[:limit])
    return {"items": shown, "next_cursor": encode_cursor(last_key(shown[-1])) if more and shown else None}
