"""``j1gitops show FILE``: render a saved plan as text, Markdown or JSON.

It reads only the file: no inventory, config or target is touched, so it runs
anywhere the plan file is, such as a CI job that downloaded the artifact.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from j1gitops.console import make_console
from j1gitops.errors import UsageError
from j1gitops.plan.planfile import SavedPlan, read_plan_file
from j1gitops.views.json_view import render_saved_plan_json
from j1gitops.views.markdown import ReviewContext, render_plan_markdown
from j1gitops.views.text import render_plan_text

SHOW_FORMATS = ("text", "markdown", "json")


def describe_origin(saved: SavedPlan) -> str:
    """Return one line on where and when the plan was made."""
    if saved.git.commit is None:
        commit = "outside git"
    else:
        state = " with uncommitted changes" if saved.git.dirty else ""
        commit = f"at commit {saved.git.commit[:12]}{state}"
    return (
        f"Saved plan for scope {saved.plan.scope!r} (target {saved.plan.target}), "
        f"made {saved.created_at} {commit} by j1gitops {saved.tool_version}.\n\n"
    )


def run_show(
    path: str, form: str = "text", color: str = "auto", details_url: str | None = None
) -> int:
    """Print the saved plan in ``form`` and return 0."""
    if form not in SHOW_FORMATS:
        raise UsageError(
            f"invalid --format {form!r}; use one of {', '.join(SHOW_FORMATS)}"
        )
    saved, document = read_plan_file(path)
    if form == "json":
        sys.stdout.write(render_saved_plan_json(document))
    elif form == "markdown":
        context = ReviewContext(
            commit=saved.git.commit,
            dirty=saved.git.dirty,
            tool_version=saved.tool_version,
            plan_file=path,
            details_url=details_url,
        )
        sys.stdout.write(render_plan_markdown(saved.plan, context))
    else:
        console = make_console(color)
        console.print(describe_origin(saved), end="")
        console.print(render_plan_text(saved.plan), end="")
    sys.stdout.flush()
    return 0


def register(app: typer.Typer) -> None:
    """Add the ``show`` command to the CLI."""

    @app.command()
    def show(
        plan_file: Annotated[
            str, typer.Argument(help="A plan saved with 'plan --out'.")
        ],
        form: Annotated[
            str, typer.Option("--format", help="View: text, markdown or json.")
        ] = "text",
        color: Annotated[
            str,
            typer.Option("--color", help="Colour the output: auto, always or never."),
        ] = "auto",
        details_url: Annotated[
            str | None,
            typer.Option(
                "--details-url",
                help="Link to the full plan, named in a cut-off Markdown view.",
            ),
        ] = None,
    ) -> int:
        """Render a saved plan without reading the inventory or the target."""
        return run_show(plan_file, form, color, details_url)
