"""Settings of the web platform, from the environment (``FINTECH_EVAL_WEB_<NAME>``) or given in code."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..app.accounts import SignInLimits


class WebSettings(BaseSettings):
    """``db``: the database (a SQLite file or URL; default ``$FINTECH_EVAL_DB``, else ./fintech-eval.sqlite)."""

    model_config = SettingsConfigDict(env_prefix="FINTECH_EVAL_WEB_", extra="forbid")

    db: str | None = None
    session_hours: float = Field(12.0, gt=0, description="A session ends this long after sign-in.")
    session_idle_minutes: float = Field(120.0, gt=0, description="…or after this long without a request.")
    cookie_secure: bool | None = Field(None, description="Secure cookies: None = when the request came over https.")
    max_failures: int = Field(5, ge=1, description="Failed sign-ins in a row that lock an account.")
    lockout_minutes: float = Field(15.0, ge=0, description="How long a locked account stays locked.")
    ip_max_failures: int = Field(20, ge=1, description="Failed sign-ins from one client address that throttle it.")
    ip_window_minutes: float = Field(15.0, gt=0, description="The window those failures are counted in.")
    default_language: str = Field("zh", pattern="^(zh|en)$")
    runs_dir: str = Field("runs", description="Where runs started from the web write their result folders (run-<id>/).")
    specs_dir: str | None = Field(None, description="A folder of saved specs (*.yaml) staff may score with.")
    submit_batch: int = Field(32, ge=1, le=1000, description="Submissions a process validates and stores together "
                              "when they arrive faster than it validates them (1: one at a time).")
    submit_linger_ms: float = Field(3.0, ge=0, le=1000, description="Under load (the last batch held more than one "
                                    "submission), how long a batch waits for more before it starts (0: not at all); "
                                    "an idle server never waits.")
    gc_freeze: bool = Field(False, description="After a process's first batch of submissions, move what it has "
                            "loaded (the framework, its compiled rules) out of the garbage collector's reach "
                            "(gc.freeze): full collections no longer pause every request for 100+ ms. "
                            "`fintech-eval serve` turns it on (a process of its own); off for an app in a process "
                            "that does other things (tests).")
    keepalive_requests: int = Field(100, ge=0, le=1_000_000, description="Requests one keep-alive connection "
                                    "carries before its answer closes it (0: no limit): spreads a client's "
                                    "connections over the worker processes.")
    jobs_thread: bool = Field(True, description="Run a job runner thread in each server process (scoring and other "
                              "background jobs); false when `fintech-eval jobs run-worker` runs them elsewhere.")
    job_poll_seconds: float = Field(1.0, gt=0, le=60, description="How often an idle job runner looks at the queue.")
    job_stale_seconds: float = Field(60.0, ge=5, description="A running job without a heartbeat for this long lost "
                                     "its worker: it is marked failed (rule job.abandoned).")
    extensions: str | None = Field(None, description="Extension files (separated by the OS path separator): the "
                                   "framework each extends is used with it applied (its variables validate in returns).")

    def extension_files(self) -> list[str]:
        import os

        return [p for p in (self.extensions or "").split(os.pathsep) if p.strip()]

    def sign_in_limits(self) -> SignInLimits:
        return SignInLimits(self.max_failures, self.lockout_minutes, self.ip_max_failures, self.ip_window_minutes)
