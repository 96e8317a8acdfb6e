"""What differs between the Odoo series the emulator can impersonate (16.0, 17.0, 18.0, 19.0)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SUPPORTED_SERIES = ("16.0", "17.0", "18.0", "19.0")


@dataclass(frozen=True)
class OdooVersion:
    serie: str

    def __post_init__(self) -> None:
        if self.serie not in SUPPORTED_SERIES:
            raise ValueError(f"unsupported Odoo version {self.serie!r}; choose one of {SUPPORTED_SERIES}")

    @property
    def major(self) -> int:
        return int(self.serie.split(".")[0])

    @property
    def version_info(self) -> list[Any]:
        return [self.major, 0, 0, "final", 0, ""]

    def common_version(self) -> dict[str, Any]:
        """``common.version()`` (RPC_VERSION_1) and ``/web/webclient/version_info``."""
        return {
            "server_version": self.serie,
            "server_version_info": self.version_info,
            "server_serie": self.serie,
            "protocol_version": 1,
        }

    # -- wire -----------------------------------------------------------------------------------
    @property
    def jsonrpc_error_code(self) -> int:
        """Odoo sent the arbitrary code 200 up to 18.0; PR odoo/odoo#183902 (saas-18.1) made it 0."""
        return 200 if self.major <= 18 else 0

    @property
    def has_json2(self) -> bool:
        return self.major >= 19

    @property
    def has_any_operator(self) -> bool:
        return self.major >= 17

    @property
    def has_last_update_field(self) -> bool:
        """``__last_update`` magic field: removed in 17.0."""
        return self.major <= 16

    @property
    def has_name_get(self) -> bool:
        """``name_get`` deprecated in 17.0 for ``display_name``, removed in 18.0."""
        return self.major <= 17

    # -- retail models --------------------------------------------------------------------------
    @property
    def storable_is_flag(self) -> bool:
        """18+: ``type='consu'`` + ``is_storable``; before: ``type='product'`` (Storable Product)."""
        return self.major >= 18

    @property
    def sale_has_done_state(self) -> bool:
        """<=16: sale.order state 'done' (Locked); 17+: boolean ``locked``, state stays 'sale'."""
        return self.major <= 16

    @property
    def has_immediate_transfer(self) -> bool:
        """<=16: ``stock.immediate.transfer`` wizard and ``stock.move.quantity_done``."""
        return self.major <= 16

    @property
    def warehouse_context_key(self) -> str:
        """18+ stock quantities read only ``warehouse_id``; up to 17 the key was ``warehouse``."""
        return "warehouse_id" if self.major >= 18 else "warehouse"

    @property
    def return_method(self) -> str:
        return "action_create_returns" if self.major >= 18 else "create_returns"

    @property
    def has_refund_method(self) -> bool:
        """``account.move.reversal.refund_method`` removed in 17.0 (refund_moves/modify_moves)."""
        return self.major <= 16

    @property
    def tax_field(self) -> str:
        """Taxes of a sales order line: ``tax_id`` up to 18.0, ``tax_ids`` from 19.0."""
        return "tax_ids" if self.major >= 19 else "tax_id"

    @property
    def has_packaging(self) -> bool:
        """``product.packaging`` (packs) exists up to 18.0; 19.0 folds packagings into units of measure."""
        return self.major <= 18
