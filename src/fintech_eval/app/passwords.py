"""Password hashing (argon2id through argon2-cffi) and the rules a new password must meet.

The hasher's cost is argon2-cffi's default (RFC 9106's second recommended profile: t=3, 64 MiB, p=4) unless
``$FINTECH_EVAL_ARGON2_TIME_COST`` / ``$FINTECH_EVAL_ARGON2_MEMORY_KIB`` say otherwise (the tests use a cheap
setting). Every hash records its own parameters, so a change of cost never locks anyone out: a hash made with
other parameters is re-made at the next successful sign-in.
"""

from __future__ import annotations

import functools
import os

from ..errors import DataError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # argon2 takes any length; a bound keeps a sign-in request from costing more than hashing


@functools.cache
def hasher():
    from argon2 import PasswordHasher

    kw = {}
    if os.environ.get("FINTECH_EVAL_ARGON2_TIME_COST"):
        kw["time_cost"] = int(os.environ["FINTECH_EVAL_ARGON2_TIME_COST"])
    if os.environ.get("FINTECH_EVAL_ARGON2_MEMORY_KIB"):
        kw["memory_cost"] = int(os.environ["FINTECH_EVAL_ARGON2_MEMORY_KIB"])
    return PasswordHasher(**kw)


def check_new_password(password: str, *, email: str | None = None) -> None:
    """A new password: at least 10 characters, at most 1,024, not the e-mail address; else a
    :class:`DataError` (rule ``password.weak``, field ``password``)."""
    problems: list[tuple[str, str]] = []  # (English, Chinese)
    if len(password) < MIN_LENGTH:
        problems.append((f"a password needs at least {MIN_LENGTH} characters", f"密码至少需要 {MIN_LENGTH} 个字符"))
    if len(password) > MAX_LENGTH:
        problems.append((f"a password may have at most {MAX_LENGTH} characters", f"密码最多 {MAX_LENGTH} 个字符"))
    if email and password.strip().lower() == email.strip().lower():
        problems.append(("a password may not be the e-mail address", "密码不能是电子邮箱地址"))
    if problems:
        raise DataError("; ".join(en for en, _ in problems), rule="password.weak", field="password",
                        zh="；".join(zh for _, zh in problems))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches the argon2 hash ``stored`` (False for no hash or a malformed one)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    if not stored or len(password) > MAX_LENGTH:
        return False
    try:
        return hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return hasher().check_needs_rehash(stored)


#: verified against when the e-mail is unknown, so that an unknown address costs as long as a wrong password
_DUMMY: list[str] = []


def burn_time(password: str) -> None:
    if not _DUMMY:
        _DUMMY.append(hash_password("not a password of anyone"))
    verify_password(_DUMMY[0], password)
