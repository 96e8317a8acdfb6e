"""`channelhub price …` and `channelhub audit …`: pricing governance from the command line.

The landscape file gives the database, Odoo and the channels; the pricing file (`--pricing`,
`$CHANNELHUB_PRICING`, else `pricing.yaml` next to the landscape file) gives the policy, rounding,
release windows and who holds `price_approver`. Commands that only read or decide (list, show,
approve, reject, audit) need the database alone; `--database URL` skips the landscape file.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups
    from channelhub.service.pricing import PricingService

T = TypeVar("T")
PRICING_ENV = "CHANNELHUB_PRICING"
USER_ENV = "CHANNELHUB_USER"

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="The landscape file. Default: $CHANNELHUB_CONFIG, else channelhub.yaml."
    ),
]
PricingOption = Annotated[
    Path | None,
    typer.Option(
        "--pricing", help="The pricing policy file. Default: $CHANNELHUB_PRICING, else pricing.yaml."
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (overrides the landscape file's database.url)."),
]
UserOption = Annotated[
    str,
    typer.Option(
        "--as",
        help="Who is acting (their roles come from the pricing file's users). Default: $CHANNELHUB_USER.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(groups: CommandGroups) -> None:
    """Add the `price` and `audit` command groups."""
    price = typer.Typer(
        help="Govern price changes: review, approve, release, roll back.", no_args_is_help=True
    )
    audit = typer.Typer(
        help="The tamper-evident audit log: verify the hash chain, export it.", no_args_is_help=True
    )
    groups.root.add_typer(price, name="price")
    groups.root.add_typer(audit, name="audit")
    for name, command in (
        ("list", price_list), ("show", price_show), ("preview", price_preview), ("approve", price_approve),
        ("reject", price_reject), ("release", price_release), ("rollback", price_rollback),
        ("retry", price_retry), ("history", price_history), ("capture", price_capture),
    ):  # fmt: skip
        price.command(name)(command)
    audit.command("verify")(audit_verify)
    audit.command("export")(audit_export)


# --- wiring ----------------------------------------------------------------------------------------


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _pricing_path(pricing: Path | None, config: Path | None) -> Path:
    if pricing is not None:
        return pricing
    if os.environ.get(PRICING_ENV):
        return Path(os.environ[PRICING_ENV])
    from channelhub.config import default_config_path

    return (config or default_config_path()).resolve().parent / "pricing.yaml"


@asynccontextmanager
async def _service(
    config: Path | None, pricing: Path | None, database: str | None, *, outside: bool = False
) -> AsyncIterator[PricingService]:
    """The pricing service; `outside` also connects Odoo and the channels (closed afterwards)."""
    from channelhub.clock import SYSTEM_CLOCK
    from channelhub.service.pricing import PricingContext, PricingService, load_pricing
    from channelhub.service.pricing.settings import PricingSettings
    from channelhub.store.db import create_store_engine, upgrade_to_head

    landscape = None
    if database is None or outside:
        from channelhub.config import load_config

        landscape = load_config(config)
    path = _pricing_path(pricing, config)
    settings = load_pricing(path) if path.exists() else PricingSettings()
    if landscape is not None:
        settings = settings.with_landscape(landscape)
    url = database or (landscape.database.connection_url() if landscape is not None else "")
    upgrade_to_head(url)
    engine = create_store_engine(url)
    closers: list[Callable[[], Coroutine[Any, Any, None]]] = []
    context = PricingContext(engine, settings, SYSTEM_CLOCK)
    try:
        if outside and landscape is not None:
            await _connect_outside(context, landscape, closers)
        yield PricingService(context)
    finally:
        for close in closers:
            await close()
        engine.dispose()


async def _connect_outside(context: Any, landscape: Any, closers: list[Any]) -> None:
    from channelhub.service.adapters.factory import UnsupportedChannel, channel_gateway, odoo_connector
    from channelhub.service.pricing import OdooPriceSource, price_publisher_for

    connector = odoo_connector(landscape.odoo, clock=context.clock)
    await connector.connect()
    closers.append(connector.aclose)
    context.source = OdooPriceSource(connector)
    publishers = {}
    for channel in landscape.channels:
        if not channel.enabled:
            continue
        try:
            gateway = channel_gateway(channel, clock=context.clock)
        except UnsupportedChannel:
            continue
        closers.append(gateway.aclose)
        publisher = price_publisher_for(gateway)
        if publisher is not None:
            publishers[channel.name] = publisher
    context.publishers = publishers


def _run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    from channelhub.config import ConfigError
    from channelhub.connectors.errors import ConnectorError
    from channelhub.domain import DomainError
    from channelhub.service.pricing import PricingError, PricingSettingsError

    try:
        return asyncio.run(work())
    except (PricingError, PricingSettingsError, DomainError, ConfigError, ConnectorError) as error:
        _fail(str(error))


def _with_service(
    config: Path | None,
    pricing: Path | None,
    database: str | None,
    act: Callable[[PricingService], Awaitable[T]],
    *,
    outside: bool = False,
) -> T:
    """Open the pricing service, await `act` on it, close it; errors become a clear exit 2."""

    async def work() -> T:
        async with _service(config, pricing, database, outside=outside) as service:
            return await act(service)

    return _run(work)


def _with_records(
    config: Path | None,
    pricing: Path | None,
    database: str | None,
    act: Callable[[PricingService], T],
) -> T:
    """`_with_service` for steps that only read or decide in the database (nothing to await)."""

    async def act_now(service: PricingService) -> T:
        return act(service)

    return _with_service(config, pricing, database, act_now)


def _print_report(report: dict[str, Any]) -> None:
    """Print a release/rollback report; exit 1 when anything was held (scripts must notice)."""
    _print_json(report)
    if report["held"]:
        raise typer.Exit(1)


def _user(user: str) -> str:
    chosen = user or os.environ.get(USER_ENV, "")
    if not chosen:
        _fail(f"say who is acting with --as USER (or set ${USER_ENV})")
    return chosen


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


# --- price -----------------------------------------------------------------------------------------


def price_list(
    status: Annotated[
        str | None, typer.Option(help="Only this status (pending_approval, scheduled, held, …).")
    ] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
    pricing: PricingOption = None,
    database: DatabaseOption = None,
) -> None:
    """List change sets, newest first."""
    from channelhub.domain.price_changes import ChangeSetStatus

    try:
        wanted = ChangeSetStatus(status) if status else None
    except ValueError:
        _fail(f"unknown status {status!r}; choose one of {', '.join(s.value for s in ChangeSetStatus)}")

    found = _with_records(
        config,
        pricing,
        database,
        lambda service: [c.to_dict() for c in service.governance.change_sets(wanted)],
    )
    if as_json:
        _print_json(found)
        return
    for change_set in found:
        typer.echo(
            f"{change_set['id']:>5}  {change_set['status']:<17} {len(change_set['items']):>4} item(s)  "
            f"{change_set['decision']['rule']:<24} {change_set['title']}"
        )
    if not found:
        typer.echo("no change sets")


def price_show(
    change_set_id: Annotated[int, typer.Argument(help="The change set id.")],
    config: ConfigOption = None,
    pricing: PricingOption = None,
    database: DatabaseOption = None,
) -> None:
    """Show one change set as JSON (the API's shape), with its audit trail."""

    def show(service: PricingService) -> dict[str, Any]:
        found = service.governance.get(change_set_id).to_dict()
        found["audit"] = service.audit_trail(f"price-change:{change_set_id}")
        return found

    _print_json(_with_records(config, pricing, database, show))


def price_preview(
    change_set_id: Annotated[int, typer.Argument(help="The change set id.")],
    days: Annotated[int | None, typer.Option(help="Horizon in days (default: the pricing file's).")] = None,
    config: ConfigOption = None,
    pricing: PricingOption = None,
    database: DatabaseOption = None,
) -> None:
    """Blast radius: SKUs, channels, revenue and margin at stake (sales velocity × price delta)."""

    _print_json(
        _with_service(
            config, pricing, database, lambda service: service.governance.preview(change_set_id, days)
        )
    )


def _decide(
    approve: bool,
    change_set_id: int,
    user: str,
    comment: str,
    config: Path | None,
    pricing: Path | None,
    database: str | None,
) -> dict[str, Any]:
    """Approve or reject a change set as `user` (the same checks either way, in the service)."""
    actor = _user(user)

    def decide(service: PricingService) -> dict[str, Any]:
        governance = service.governance
        act = governance.approve if approve else governance.reject
        return act(change_set_id, service.context.approver(actor), comment).to_dict()

    return _with_records(config, pricing, database, decide)


def price_approve(
    change_set_id: Annotated[int, typer.Argument(help="The change set id.")],
    user: UserOption = "",
    comment: Annotated[str, typer.Option(help="Why it is fine.")] = "",
    config: ConfigOption = None,
    pricing: PricingOption = None,
    database: DatabaseOption = None,
) -> None:
    """Approve a pending change set (needs price_approver; the proposer cannot approve)."""
    result = _decide(True, change_set_id, user, comment, config, pricing, database)
    typer.echo(f"change set {change_set_id} is {result['status']} ({len(result['approvals'])} approval(s))")


def price_reject(
    change_set_id: Annotated[int, typer.Argument(help="The change set id.")],
    comment: Annotated[str, typer.Option(help="Why (required).")],
    user: UserOption = "",
    config: ConfigOption = None,
    pricing: PricingOption = None,
    database: DatabaseOption = None,
) -> None:
    """Reject a pending change set with a comment."""
    result = _decide(False, change_set_id, user, comment, config, pricing, database)
    typer.echo(f"change set {change_set_id} is {result['status']}")


def price_release(
    change_set_id: Annotated[int | None, typer.Argument(help="Only this change set.")] = None,
    now: Annotated[
        bool, typer.Option("--now", help="Ignore release times, windows and canary watch.")
    ] = False,
    config: ConfigOption = None,
    pricing: PricingOption = None,
) -> None:
    """Run the release scheduler once: publish what is due, judge canaries, revert ended windows."""

    async def release(service: PricingService) -> dict[str, Any]:
        return (await service.release.run_due(force=now, only=change_set_id)).to_dict()

    _print_report(_with_service(config, pricing, None, release, outside=True))


def price_rollback(
    change_set_id: Annotated[int, typer.Argument(help="The change set id.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")],
    user: UserOption = "",
    config: ConfigOption = None,
    pricing: PricingOption = None,
) -> None:
    """Restore the prices before this change set on every channel it reached."""
    actor = _user(user)

    async def rollback(service: PricingService) -> dict[str, Any]:
        approver = service.context.approver(actor)
        return (await service.release.rollback(change_set_id, approver, reason)).to_dict()

    _print_report(_with_service(config, pricing, None, rollback, outside=True))


def price_retry(
    change_set_id: Annotated[int, typer.Argument(help="The held change set id.")],
    user: UserOption = "",
    config: ConfigOption = None,
    pricing: PricingOption = None,
) -> None:
    """Retry a held change set (after the channel problem is fixed)."""
    actor = _user(user)

    async def retry(service: PricingService) -> dict[str, Any]:
        return (await service.release.retry(change_set_id, actor)).to_dict()

    _print_json(_with_service(config, pricing, None, retry, outside=True))


def price_history(
    sku: Annotated[str, typer.Argument(help="The SKU.")],
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    config: ConfigOption = None,
    pricing: PricingOption = None,
    database: DatabaseOption = None,
) -> None:
    """Price versions of a SKU per channel (baseline, release, revert, rollback)."""

    _print_json(
        _with_records(config, pricing, database, lambda service: service.governance.history(sku, channel))
    )


def price_capture(
    snapshot: Annotated[
        bool, typer.Option("--snapshot", help="Compare whole pricelists, not only changes.")
    ] = False,
    config: ConfigOption = None,
    pricing: PricingOption = None,
) -> None:
    """Read Odoo pricelist changes (write_date poll) and propose them as change sets."""

    async def capture(service: PricingService) -> list[dict[str, Any]]:
        created = await (service.capture.snapshot() if snapshot else service.capture.poll())
        return [{"id": c.id, "status": c.status.value, "rule": c.rule, "title": c.title} for c in created]

    _print_json(_with_service(config, pricing, None, capture, outside=True))


# --- audit -----------------------------------------------------------------------------------------


def audit_verify(
    as_json: JsonOption = False,
    config: ConfigOption = None,
    pricing: PricingOption = None,
    database: DatabaseOption = None,
) -> None:
    """Check the audit log's hash chain; exits 1 naming the first row edited, removed or reordered."""

    report = _with_records(config, pricing, database, lambda service: service.audit_verify().to_dict())
    if as_json:
        _print_json(report)
    elif report["ok"]:
        typer.echo(f"audit log intact: {report['count']} row(s), head {report['head']}")
    else:
        typer.secho(
            f"audit log TAMPERED at row {report['first_bad_seq']}: {report['problem']}",
            fg=typer.colors.RED,
            err=True,
        )
    if not report["ok"]:
        raise typer.Exit(1)


def audit_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "json",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    subject: Annotated[
        str | None, typer.Option(help="Only rows about this subject, e.g. price-change:7.")
    ] = None,
    config: ConfigOption = None,
    pricing: PricingOption = None,
    database: DatabaseOption = None,
) -> None:
    """Export the audit log for finance (every column, including the hashes)."""
    if fmt not in ("csv", "json"):
        _fail("--format must be csv or json")

    text = _with_records(config, pricing, database, lambda service: service.audit_export(fmt, subject))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")
