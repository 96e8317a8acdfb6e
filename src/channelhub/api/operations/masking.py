"""Personal data (names, e-mails, phones, addresses) hidden from roles below `operator`.

Whole values under personal keys are replaced (an address object, a customer object), and
e-mail addresses and phone numbers inside free text (error messages) are masked too.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar, cast

MASK = "•••"

Shown = TypeVar("Shown")

PERSONAL_KEYS = frozenset(
    {
        "customer",
        "billing",
        "shipping",
        "billing_address",
        "shipping_address",
        "address",
        "addresses",
        "email",
        "contact_email",
        "phone",
        "mobile",
        "first_name",
        "last_name",
        "full_name",
        "customer_name",
        "partner_name",
        "street",
        "street2",
        "address1",
        "address2",
        "city",
        "zip",
        "postcode",
        "company",
        "note",
    }
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International numbers only: a bare digit run could be a date, an order number or a SKU.
_PHONE = re.compile(r"\+\d[\d ()-]{7,}\d")


def mask_text(text: str) -> str:
    return _PHONE.sub(MASK, _EMAIL.sub(MASK, text))


def mask_personal(value: Any) -> Any:
    """A copy of `value` (JSON-like) with personal data masked."""
    if isinstance(value, dict):
        return {
            key: (MASK if value[key] not in (None, "") else value[key])
            if str(key).lower() in PERSONAL_KEYS
            else mask_personal(value[key])
            for key in value
        }
    if isinstance(value, list | tuple):
        return [mask_personal(item) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def shown_to(value: Shown, sees_personal_data: bool) -> Shown:
    """`value` as a caller may see it: unchanged from `operator` up, masked below."""
    return value if sees_personal_data else cast(Shown, mask_personal(value))
