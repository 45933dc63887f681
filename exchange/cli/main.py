"""Entry point of ``mmx``: one Typer app, sub-commands registered from their modules."""

from __future__ import annotations

import typer

from exchange.cli import server_cmd, standard_cmd, submit_cmd, validate_cmd

app = typer.Typer(
    name="mmx",
    help="Mixed-Movement Statistics Exchange: validate, browse the standard, submit, serve.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("validate")(validate_cmd.validate)
app.command("example")(standard_cmd.example)
app.add_typer(standard_cmd.app, name="standard")
app.command("serve")(server_cmd.serve)
app.command("worker")(server_cmd.worker)
app.command("openapi")(server_cmd.openapi)
app.add_typer(server_cmd.clients_app, name="clients")
app.add_typer(server_cmd.audit_app, name="audit")
app.command("token")(submit_cmd.token)
app.command("submit")(submit_cmd.submit)
app.command("status")(submit_cmd.status)


if __name__ == "__main__":  # pragma: no cover
    app()
