"""Entry point of ``mmx``: one Typer app, sub-commands registered from their modules."""

from __future__ import annotations

import typer

from exchange.cli import standard_cmd, validate_cmd

app = typer.Typer(
    name="mmx",
    help="Mixed-Movement Statistics Exchange: validate, browse the standard, submit.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("validate")(validate_cmd.validate)
app.command("example")(standard_cmd.example)
app.add_typer(standard_cmd.app, name="standard")


if __name__ == "__main__":  # pragma: no cover
    app()
