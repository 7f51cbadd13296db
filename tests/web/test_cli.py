"""``fintech-eval admin create-user / set-password`` and ``fintech-eval serve``: the first administrator is
created from the shell (the password never on the command line nor echoed), and a real server on 127.0.0.1
signs them in."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from fintech_eval.app import Workspace
from fintech_eval.app.accounts import find_user
from fintech_eval.cli.web import ROLE_NAMES
from fintech_eval.store import head_revision
from fintech_eval.store.models import ROLES
from tests.clirun import run_cli

SECRET = "first admin passphrase"


def test_role_names_of_the_cli_are_the_stores():
    assert ROLE_NAMES == ROLES


def test_create_user_from_a_password_file_and_reset(tmp_path, capsys, monkeypatch):
    db = tmp_path / "fe.sqlite"
    pw = tmp_path / "pw.txt"
    pw.write_text(SECRET + "\n", encoding="utf-8")
    r = run_cli(["admin", "create-user", "--email", "Boss@Example.org", "--password-file", pw, "--db", db], capsys, monkeypatch)
    assert r.code == 0, r.err
    assert SECRET not in r.out + r.err and "administrator" in r.out
    with Workspace(str(db), create=False) as ws:
        acc = find_user(ws, "boss@example.org")
    assert acc is not None and acc.role == "administrator" and acc.password_set
    again = run_cli(["admin", "create-user", "--email", "boss@example.org", "--password-file", pw, "--db", db], capsys, monkeypatch)
    assert again.code == 2 and "user.exists" in again.err + again.out
    weak = tmp_path / "weak.txt"
    weak.write_text("short", encoding="utf-8")
    r = run_cli(["admin", "create-user", "--email", "x@example.org", "--password-file", weak, "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "password.weak" in r.err + r.out
    monkeypatch.setenv("FINTECH_EVAL_PASSWORD", "another passphrase")
    r = run_cli(["admin", "set-password", "--email", "boss@example.org", "--db", db], capsys, monkeypatch)
    assert r.code == 0 and "another passphrase" not in r.out + r.err
    r = run_cli(["admin", "create-user", "--email", "sub@example.org", "--role", "submitter", "--entity", "institution:B9",
                 "--db", db], capsys, monkeypatch)
    assert r.code == 2 and "not in the register" in r.err + r.out


def test_no_password_and_no_terminal_is_an_error(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FINTECH_EVAL_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115 - not a terminal
    r = run_cli(["admin", "create-user", "--email", "a@example.org", "--db", tmp_path / "x.sqlite"], capsys, monkeypatch)
    assert r.code == 2 and "password.missing" in r.err + r.out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(url: str, body: dict | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"{}")


def test_serve_answers_on_loopback(tmp_path: Path):
    db = tmp_path / "fe.sqlite"
    env = {**os.environ, "FINTECH_EVAL_PASSWORD": SECRET}
    exe = [sys.executable, "-m", "fintech_eval"]
    subprocess.run([*exe, "admin", "create-user", "--email", "boss@example.org", "--db", str(db)], env=env, check=True,
                   capture_output=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen([*exe, "serve", "--port", str(port), "--db", str(db)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, health = _request(base + "/api/v1/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert status == 200 and health["schema_revision"] == head_revision()
        status, headers, body = _request(base + "/api/v1/auth/sign-in", {"email": "boss@example.org", "password": SECRET})
        assert status == 200 and body["user"]["role"] == "administrator" and "HttpOnly" in headers["set-cookie"]
        status, _, doc = _request(base + "/openapi.json")
        assert status == 200 and "/api/v1/me" in doc["paths"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_refuses_a_missing_database(tmp_path: Path):
    done = subprocess.run([sys.executable, "-m", "fintech_eval", "serve", "--db", str(tmp_path / "none.sqlite")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr
