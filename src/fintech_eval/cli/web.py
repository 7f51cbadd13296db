"""``fintech-eval serve`` (the web platform on uvicorn) and ``fintech-eval admin`` (accounts from the shell:
the first administrator, a password reset). FastAPI and uvicorn are imported inside the commands, so that
``fintech-eval --help`` stays light."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from .data import DbOpt
from .output import console, safe

PASSWORD_ENV = "FINTECH_EVAL_PASSWORD"
ROLE_NAMES = ("administrator", "evaluator", "submitter", "viewer")  # = store.models.ROLES (tests/web keep them equal)

admin_app = typer.Typer(help="Accounts of the web platform from the shell: create users, reset a password.",
                        no_args_is_help=True)


def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    db: DbOpt = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes (PostgreSQL for more than one).")] = 1,
    proxy_headers: Annotated[bool, typer.Option("--proxy-headers/--no-proxy-headers", help="Trust X-Forwarded-Proto/For from --forwarded-allow-ips (behind a TLS proxy: cookies become Secure).")] = False,
    forwarded_allow_ips: Annotated[str, typer.Option("--forwarded-allow-ips", help="Proxies whose X-Forwarded-* headers are trusted.")] = "127.0.0.1",
    extension: Annotated[list[Path] | None, typer.Option("--extension", help="An extension file: the framework it extends is used with it applied (returns may answer its variables; repeatable).")] = None,
) -> None:
    """Serve the web platform and its REST API (/api/v1, OpenAPI at /openapi.json, sign-in page at /sign-in) on
    the database (it must exist: create the first administrator with `fintech-eval admin create-user`)."""
    import uvicorn

    from ..store import database_url
    from ..web.app import create_app
    from ..web.settings import WebSettings

    url = database_url(db)
    os.environ["FINTECH_EVAL_WEB_DB"] = url  # the workers (and the factory) read the same database
    os.environ.setdefault("FINTECH_EVAL_WEB_GC_FREEZE", "true")  # a server process: see WebSettings.gc_freeze
    if extension:
        os.environ["FINTECH_EVAL_WEB_EXTENSIONS"] = os.pathsep.join(str(p.resolve()) for p in extension)
    create_app(WebSettings(db=url)).state.workspace.close()  # a missing or old database: one line now, not per worker
    console.print(f"fintech-eval web on http://{host}:{port}/ (database {safe(url)}); Ctrl+C stops it")
    uvicorn.run("fintech_eval.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips, log_level="info")


def read_password(password_file: Path | None, *, confirm: bool = True) -> str:
    """The password from --password-file (first line), else $FINTECH_EVAL_PASSWORD, else a prompt that does not
    echo (asked twice). Never from a command-line argument, which other users of the machine can read."""
    if password_file is not None:
        text = password_file.read_text(encoding="utf-8").splitlines()
        return text[0] if text else ""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    import sys

    if not sys.stdin.isatty():
        from ..errors import DataError

        raise DataError(f"no password: give --password-file FILE or ${PASSWORD_ENV}, or run in a terminal to be asked",
                        rule="password.missing")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


def _entities(items: list[str] | None) -> list[tuple[str, str]]:
    from ..errors import DataError

    out = []
    for item in items or []:
        kind, sep, eid = item.partition(":")
        if not sep or kind not in ("institution", "vendor") or not eid:
            raise DataError(f"--entity {item!r}: expected institution:CODE or vendor:CODE", rule="user.entities")
        out.append((kind, eid))
    return out


PasswordFileOpt = Annotated[Path | None, typer.Option("--password-file", help=f"Read the password from this file's first line (else ${PASSWORD_ENV}, else a prompt).")]


@admin_app.command("create-user")
def create_user_cmd(
    email: Annotated[str, typer.Option("--email", help="The account's e-mail address (its sign-in name).")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLE_NAMES)}.")] = "administrator",
    name: Annotated[str | None, typer.Option("--name")] = None,
    entity: Annotated[list[str] | None, typer.Option("--entity", help="A submitter's entity: institution:CODE or vendor:CODE (repeat).")] = None,
    password_file: PasswordFileOpt = None,
    db: DbOpt = None,
) -> None:
    """Create an account (the first administrator of a new platform); creates the database if needed."""
    from ..app import Workspace
    from ..app.accounts import create_user

    password = read_password(password_file)
    with Workspace(db) as ws:
        acc = create_user(ws, email=email, role=role, password=password, name=name, entities=_entities(entity),
                          who="cli")
    console.print(f"[green]user {acc.id}[/] {safe(acc.email)} created ({acc.role}); sign in at /sign-in")


@admin_app.command("set-password")
def set_password_cmd(
    email: Annotated[str, typer.Option("--email")],
    password_file: PasswordFileOpt = None,
    db: DbOpt = None,
) -> None:
    """Set an account's password and lift its lockout (when an administrator cannot sign in)."""
    from ..app import Workspace
    from ..app.accounts import find_user, set_password
    from ..errors import DataError

    password = read_password(password_file)
    with Workspace(db, create=False) as ws:
        acc = find_user(ws, email)
        if acc is None:
            raise DataError(f"no account for {email}", rule="user.not_found")
        set_password(ws, acc.id, password, who="cli")
    console.print(f"password of {safe(email)} set")
