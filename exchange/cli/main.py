"""The ``mmx`` commands the exchange itself provides. The program's entry point
(``mmx.main``) adds the commands that start processes (``serve``, ``worker``) and tells
``status`` which queue the installation uses. Sub-commands import what they need when they
run, so ``mmx --help`` and ``mmx validate`` start fast."""

from __future__ import annotations

import typer

from exchange.cli import (
    admin_cmd,
    coordinator_cmd,
    releases_cmd,
    standard_cmd,
    submit_cmd,
    validate_cmd,
    views_cmd,
)


def build(queue_for: submit_cmd.QueueFactory) -> typer.Typer:
    app = typer.Typer(
        name="mmx",
        help="Mixed-Movement Statistics Exchange: validate, browse the standard, submit, serve.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.command("validate")(validate_cmd.validate)
    app.command("example")(standard_cmd.example)
    app.add_typer(standard_cmd.app, name="standard")
    app.command("token")(submit_cmd.token)
    app.command("submit")(submit_cmd.submit)
    app.command("status")(submit_cmd.status_command(queue_for))
    app.command("signoff")(coordinator_cmd.signoff)
    app.command("sendback")(coordinator_cmd.sendback)
    app.command("consent")(coordinator_cmd.consent)
    app.add_typer(admin_cmd.clients_app, name="clients")
    app.add_typer(admin_cmd.regions_app, name="regions")
    app.add_typer(releases_cmd.app, name="releases")
    app.command("coverage")(views_cmd.coverage)
    app.command("annual")(views_cmd.annual)
    app.add_typer(admin_cmd.audit_app, name="audit")
    app.add_typer(admin_cmd.db_app, name="db")
    app.command("openapi")(admin_cmd.openapi)
    return app
