"""Reading Odoo's field values into Python values (one place for Odoo's wire conventions).

Odoo sends `False` for every empty field, many2one as `[id, display_name]` (or a bare id when read
with `load=None`, as webhooks do), datetimes as naive UTC strings `YYYY-MM-DD HH:MM:SS` and numbers
as floats.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from channelhub.connectors.odoo.errors import OdooProtocolError

ODOO_DATETIME = "%Y-%m-%d %H:%M:%S"


def many2one_id(value: Any) -> int | None:
    """The id of a many2one value: `[7, "WH/Stock"]`, `7`, or `False` (empty)."""
    if value is False or value is None:
        return None
    if isinstance(value, list | tuple) and value and isinstance(value[0], int):
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise OdooProtocolError(f"not a many2one value: {value!r}")


def many2one_name(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) > 1 and isinstance(value[1], str):
        return value[1]
    return ""


def text(value: Any) -> str | None:
    """A char field: None when Odoo says False."""
    if value is False or value is None:
        return None
    return str(value)


def decimal(value: Any) -> Decimal:
    """A float field as a Decimal via its shortest repr (19.99 stays 19.99, not 19.989999...)."""
    if value is False or value is None:
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise OdooProtocolError(f"not a number: {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise OdooProtocolError(f"not a finite number: {value!r}")
    return Decimal(str(value))


def _quantity(value: Any) -> float:
    # Odoo rounds quantities to the unit's precision (0.01 or finer); rounding to 6 places removes
    # binary noise such as 2.9999999999 before whole units are taken.
    if isinstance(value, float):
        return value if value.is_integer() else round(value, 6)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return float(decimal(value))


def whole_down(value: Any) -> int:
    """A quantity as whole units, rounded down (never promise a fraction we do not have)."""
    return math.floor(_quantity(value))


def whole_up(value: Any) -> int:
    """A quantity as whole units, rounded up (a reservation of 0.5 blocks a whole unit)."""
    return math.ceil(_quantity(value))


def parse_datetime(value: Any) -> datetime | None:
    """An Odoo datetime string (naive UTC) as an aware datetime; None when empty."""
    if value is False or value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return datetime.strptime(str(value)[:19], ODOO_DATETIME).replace(tzinfo=UTC)
    except ValueError:
        try:
            return datetime.strptime(str(value)[:10], "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise OdooProtocolError(f"not an Odoo datetime: {value!r}") from exc


def format_datetime(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime(ODOO_DATETIME)
