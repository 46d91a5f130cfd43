"""The command-line interface: options in, one command function called, exit code out.

Every expected failure is a ``J1GitOpsError`` and ends as one ``Error:`` line on
stderr with the exit code of its class. Usage errors exit 1, never 2, because 2
means "changes present" under ``--detailed-exitcode``. An unexpected exception
prints one line and writes its traceback to a temporary file, so no traceback
reaches the terminal of a CI log.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import traceback
from typing import Annotated

import typer

from j1gitops import __version__
from j1gitops.errors import J1GitOpsError
from j1gitops.secrets import redact

try:  # typer 0.2x vendors click; its errors derive from TyperException
    from typer import TyperException as CommandLineError
except ImportError:  # older typer on top of click
    from click import ClickException as CommandLineError

app = typer.Typer(
    name="j1gitops",
    help="Keep a JupiterOne asset inventory in Git: validate, plan and apply it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

PathsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Inventory files or folders (default: the config's 'inventory' list). "
        "Together they are the whole desired state of the scope."
    ),
]
ConfigOption = Annotated[
    str | None, typer.Option("--config", help="Config file (default: ./j1gitops.yaml).")
]
StrictOption = Annotated[
    bool | None,
    typer.Option("--strict/--no-strict", help="Apply the J1 data model verbatim."),
]
ColorOption = Annotated[
    str, typer.Option("--color", help="Colour the output: auto, always or never.")
]
TargetOption = Annotated[
    str | None,
    typer.Option("--target", help="Target to plan against: local or jupiterone."),
]
LocalPathOption = Annotated[
    str | None,
    typer.Option(
        "--local-path", help="SQLite file of the local target (default from config)."
    ),
]


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"j1gitops {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log each J1 request to stderr.")
    ] = False,
) -> None:
    """Keep a JupiterOne asset inventory in Git: validate, plan and apply it."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")


@app.command()
def validate(
    paths: PathsArgument = None,
    config: ConfigOption = None,
    strict: StrictOption = None,
    form: Annotated[
        str, typer.Option("--format", help="Output format: text, json or github.")
    ] = "text",
) -> int:
    """Validate inventory files against J1's rules and data model."""
    from j1gitops.commands.validate import run_validate

    return run_validate(paths or [], config_path=config, strict=strict, form=form)


AllowDeletesOption = Annotated[
    bool,
    typer.Option(
        "--allow-deletes",
        help="Allow more deletes than deletes.max_count/max_percent in the config. "
        "Protected entities stay protected.",
    ),
]
AllowEmptyOption = Annotated[
    bool,
    typer.Option(
        "--allow-empty",
        help="Allow an empty inventory to delete everything in the scope.",
    ),
]
BaseRefOption = Annotated[
    str | None,
    typer.Option(
        "--base-ref",
        help="Git revision whose inventory also protects entities (default: HEAD), "
        "such as the base of a pull request.",
    ),
]


@app.command()
def plan(
    paths: PathsArgument = None,
    config: ConfigOption = None,
    target: TargetOption = None,
    local_path: LocalPathOption = None,
    strict: StrictOption = None,
    form: Annotated[
        str, typer.Option("--format", help="Plan view: text, markdown or json.")
    ] = "text",
    color: ColorOption = "auto",
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode",
            help="Exit 0 with no changes, 2 with changes, 1 on error.",
        ),
    ] = False,
    out: Annotated[
        str | None,
        typer.Option("--out", help="Save the plan to this file for 'apply FILE'."),
    ] = None,
    allow_deletes: AllowDeletesOption = False,
    allow_empty: AllowEmptyOption = False,
    base_ref: BaseRefOption = None,
    details_url: Annotated[
        str | None,
        typer.Option(
            "--details-url",
            help="Link to the full plan, named in a cut-off Markdown view.",
        ),
    ] = None,
) -> int:
    """Show what apply would create, update and delete in the scope."""
    from j1gitops.commands.plan import PlanOptions, run_plan

    return run_plan(
        PlanOptions(
            paths=paths or [],
            config_path=config,
            target=target,
            local_path=local_path,
            format=form,
            color=color,
            detailed_exitcode=detailed_exitcode,
            strict=strict,
            out=out,
            allow_deletes=allow_deletes,
            allow_empty=allow_empty,
            base_ref=base_ref,
            details_url=details_url,
        )
    )


@app.command()
def apply(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="A saved plan from 'plan --out', alone; or inventory files or folders "
            "(default: 'inventory' in the config)."
        ),
    ] = None,
    config: ConfigOption = None,
    target: TargetOption = None,
    local_path: LocalPathOption = None,
    strict: StrictOption = None,
    auto_approve: Annotated[
        bool,
        typer.Option("--auto-approve", help="Apply without asking for confirmation."),
    ] = False,
    color: ColorOption = "auto",
    allow_deletes: AllowDeletesOption = False,
    allow_empty: AllowEmptyOption = False,
    base_ref: BaseRefOption = None,
) -> int:
    """Apply a saved plan, or plan and apply the inventory as one DIFF synchronization."""
    from j1gitops.commands.apply import ApplyOptions, run_apply

    return run_apply(
        ApplyOptions(
            paths=paths or [],
            config_path=config,
            target=target,
            local_path=local_path,
            strict=strict,
            color=color,
            auto_approve=auto_approve,
            allow_deletes=allow_deletes,
            allow_empty=allow_empty,
            base_ref=base_ref,
        )
    )


def _register_optional_commands() -> None:
    """Add the commands that live in their own modules."""
    import importlib

    for name in ("show", "schemas", "importers", "export", "classify", "emulator"):
        try:
            module = importlib.import_module(f"j1gitops.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"j1gitops.commands.{name}":
                raise
            continue
        module.register(app)


_register_optional_commands()


def _write_crash_log() -> str:
    with tempfile.NamedTemporaryFile(
        "w", prefix="j1gitops-crash-", suffix=".log", delete=False
    ) as handle:
        handle.write(redact(traceback.format_exc()))
    return handle.name


def _describe_os_error(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.filename is not None:
        return f"cannot use {exc.filename}: {reason}"
    return f"input or output failed: {reason}"


def _report_usage_error(exc: Exception) -> int:
    """Print a command-line error with a pointer to the help; return its exit code."""
    message = exc.format_message().rstrip(".")
    if not message:  # "no arguments, so show the help": help was printed already
        return 0
    context = getattr(exc, "ctx", None)
    command_path = context.command_path if context is not None else "j1gitops"
    print(
        redact(f"Error: {message}. Run '{command_path} --help' for usage."),
        file=sys.stderr,
    )
    return 1


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with the command's code."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="j1gitops", standalone_mode=False)
    except J1GitOpsError as exc:
        print(redact(f"Error: {exc}"), file=sys.stderr)
        code = exc.exit_code
    except typer.Abort:
        code = 130
    except CommandLineError as exc:
        code = _report_usage_error(exc)
    except KeyboardInterrupt:
        code = 130
    except OSError as exc:
        # A file or stream that a command could not open, read or write, such as
        # a full disk or a directory given where a file was expected.
        print(redact(f"Error: {_describe_os_error(exc)}"), file=sys.stderr)
        code = 1
    except RecursionError:
        print(
            "Error: the input is nested too deeply to read; flatten it",
            file=sys.stderr,
        )
        code = 1
    except MemoryError:
        print(
            "Error: out of memory; the input is too large for this machine",
            file=sys.stderr,
        )
        code = 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        log = _write_crash_log()
        print(
            redact(
                f"Error: internal error ({type(exc).__name__}: {exc}); the traceback is in "
                f"{log}. Please report it."
            ),
            file=sys.stderr,
        )
        code = 1
    if code == 130:
        # Ctrl-C arrives as KeyboardInterrupt, typer.Abort, or an exit code of 130
        # that typer returns.
        print("Interrupted.", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)
