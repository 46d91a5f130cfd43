"""``j1gitops emulator``: serve a local J1 API emulator on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from j1gitops.errors import CredentialsError, UsageError

# The emulator and the J1 client pull in the HTTP stacks; they are imported when
# the emulator starts, not whenever the CLI does.
if TYPE_CHECKING:
    from j1gitops.emulator import EmulatorOptions, EmulatorServer

DEFAULT_STATE = ".j1gitops/emulator.db"
MAX_PORT = 65535


def print_listening(server: EmulatorServer) -> None:
    print(f"listening on {server.url}", flush=True)


def run_emulator(
    port: int = 0,
    state: str = DEFAULT_STATE,
    api_key: str | None = None,
    account: str | None = None,
    faults: Sequence[str] = (),
    *,
    seed: int = 0,
    page_size: int = 250,
    variable_pages: bool = False,
    defer_over: int = 5000,
    deferred_polls: int = 0,
    finalize_delay: float = 0.0,
    control: bool = False,
    ready_callback: Callable[[EmulatorServer], None] = print_listening,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Serve the emulator until interrupted; return the exit code.

    The emulator accepts exactly one API key and account id: ``api_key`` and
    ``account``, or else J1_API_KEY and J1_ACCOUNT_ID from the environment, so
    that the same variables serve j1gitops and the emulator. ``faults`` are
    rule specs as ``j1gitops.emulator.faults`` describes them.
    """
    from j1gitops.emulator import EmulatorOptions
    from j1gitops.targets.jupiterone.settings import (
        ACCOUNT_VARIABLES,
        KEY_VARIABLES,
        check_credential,
    )

    if not 0 <= port <= MAX_PORT:
        raise UsageError(
            f"--port {port} is not a TCP port: choose 1-{MAX_PORT}, or 0 for a free one"
        )
    environ = os.environ if environ is None else environ
    if api_key:
        api_key = check_credential(api_key, "the emulator's API key", "API key")
    else:
        api_key = _from_environment(environ, KEY_VARIABLES, "API key")
    if account:
        account = check_credential(account, "--account", "account id")
    else:
        account = _from_environment(environ, ACCOUNT_VARIABLES, "account id")
    options = EmulatorOptions(
        state=state,
        api_key=api_key,
        account_id=account,
        port=port,
        faults=_parse_faults(faults),
        seed=seed,
        page_size=page_size,
        variable_pages=variable_pages,
        defer_over=defer_over,
        deferred_polls=deferred_polls,
        finalize_delay=finalize_delay,
        control=control,
    )
    server = _open_server(options)
    _stop_on_sigterm()
    try:
        ready_callback(server)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


def _open_server(options: EmulatorOptions) -> EmulatorServer:
    from j1gitops.emulator import EmulatorServer
    from j1gitops.store.sqlite import StoreError

    try:
        return EmulatorServer(options)
    except StoreError as exc:
        raise UsageError(f"{exc}; choose another --state file") from exc
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{options.port} ({exc.strerror or exc}); "
            "choose another --port, or 0 for a free one"
        ) from exc


def _from_environment(
    environ: Mapping[str, str], names: tuple[str, ...], description: str
) -> str:
    from j1gitops.targets.jupiterone.settings import check_credential

    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return check_credential(value, name, description)
    raise CredentialsError(
        f"the emulator needs the {description} it will accept: set {names[0]} "
        "(the same variable j1gitops reads to connect)"
    )


def _parse_faults(specs: Sequence[str]) -> list:
    from j1gitops.emulator import FaultSpecError, parse_fault

    try:
        return [parse_fault(spec) for spec in specs]
    except FaultSpecError as exc:
        raise UsageError(f"invalid --fault: {exc}") from exc


def _stop_on_sigterm() -> None:
    """Make SIGTERM stop the server like Ctrl-C, so the store closes cleanly."""
    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


FAULT_HELP = (
    "Fault rule KIND[:option=value,...], repeatable. Kinds: rate-limit, "
    "rate-limit-200, server-error, slow, drop, drop-after, job-error. Options: "
    "nth=2+5, every=N, probability=P, times=N, path=PART, method=M, status=N, "
    "retry-after=SECONDS, delay=SECONDS, job-status=STATUS."
)


def register(app: typer.Typer) -> None:
    """Add the ``emulator`` command to the CLI."""

    @app.command("emulator")
    def emulator(
        port: Annotated[
            int, typer.Option(help="TCP port on 127.0.0.1; 0 picks a free one.")
        ] = 0,
        state: Annotated[
            str, typer.Option(help="SQLite file that stores the emulated account.")
        ] = DEFAULT_STATE,
        account: Annotated[
            str | None,
            typer.Option(help="Account id to accept. Default: J1_ACCOUNT_ID."),
        ] = None,
        fault: Annotated[list[str] | None, typer.Option(help=FAULT_HELP)] = None,
        seed: Annotated[
            int, typer.Option(help="Seed for probability faults and page sizes.")
        ] = 0,
        page_size: Annotated[int, typer.Option(help="Rows per queryV1 page.")] = 250,
        variable_pages: Annotated[
            bool, typer.Option(help="Vary page sizes from 0 to --page-size, as J1 may.")
        ] = False,
        defer_over: Annotated[
            int,
            typer.Option(help="Rows above which deferredResponse OPTIONAL defers."),
        ] = 5000,
        deferred_polls: Annotated[
            int,
            typer.Option(
                help="How many reads of a deferred state document return IN_PROGRESS."
            ),
        ] = 0,
        finalize_delay: Annotated[
            float,
            typer.Option(help="Seconds a finalized sync job waits before it runs."),
        ] = 0.0,
        control: Annotated[
            bool,
            typer.Option(
                help="Serve /_emulator/faults and /_emulator/stats, for tests."
            ),
        ] = False,
    ) -> None:
        """Serve a local emulator of the JupiterOne API on 127.0.0.1.

        The API key it accepts is read from J1_API_KEY, never from an option.
        """
        code = run_emulator(
            port, state, None, account, fault or (),
            seed=seed, page_size=page_size, variable_pages=variable_pages,
            defer_over=defer_over, deferred_polls=deferred_polls,
            finalize_delay=finalize_delay, control=control,
        )  # fmt: skip
        raise typer.Exit(code)
