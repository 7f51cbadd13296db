"""Accounts of the web platform: users with a role (administrator, evaluator, submitter, viewer), a
submitter's entities (the institutions or vendors it answers for), passwords and signing in with throttling
and lockout. Every change is written to the audit log (:mod:`.audit`).

Signing in (:func:`sign_in`) refuses, with the same answer whether or not the address has an account:

* a wrong e-mail or password: ``sign_in.invalid``;
* an address with ``max_failures`` failed attempts in a row (counted on the account, or in the audit log for
  an address without one): locked for ``lockout_minutes`` (``sign_in.locked``, even with the right password);
* a client address with ``ip_max_failures`` failures within ``ip_window_minutes``: ``sign_in.throttled``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import DataError, FintechEvalError
from ..store.models import ROLES, TENANT_KINDS, Institution, UserAccount, UserEntity, Vendor
from .audit import audit, count_since
from .passwords import burn_time, check_new_password, hash_password, needs_rehash, verify_password
from .tx import writing
from .workspace import Workspace

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    name: str | None
    role: str
    active: bool
    entities: tuple[tuple[str, str], ...]  # (kind, id), sorted
    password_set: bool
    locked_until: dt.datetime | None
    created_by: str
    created_at: dt.datetime

    def entity_ids(self, kind: str) -> set[str]:
        return {e for k, e in self.entities if k == kind}


@dataclass(frozen=True)
class SignInLimits:
    """Throttling and lockout of sign-ins (the web settings fill it from the environment)."""

    max_failures: int = 5
    lockout_minutes: float = 15.0
    ip_max_failures: int = 20
    ip_window_minutes: float = 15.0


class SignInRefused(FintechEvalError):
    """A sign-in refused (``rule``: ``sign_in.invalid``, ``sign_in.locked``, ``sign_in.throttled``);
    ``retry_after`` is the seconds until a locked or throttled address may try again."""

    def __init__(self, message: str, *, rule: str, zh: str | None = None, retry_after: int | None = None):
        super().__init__(message, rule=rule, zh=zh)
        self.retry_after = retry_after
        self.reason = rule.removeprefix("sign_in.")  # for the audit log: unknown, password, inactive, locked, …
        self.user_id: int | None = None


def account_of(u: UserAccount) -> Account:
    """The account as the application hands it out (its entities loaded)."""
    return account_from(u.id, u.email, u.name, u.role, u.active, u.password_hash is not None, u.locked_until,
                        u.created_by, u.created_at, [(e.entity_kind, e.entity_id) for e in u.entities])


def account_from(id_: int, email: str, name: str | None, role: str, active: Any, password_set: Any,
                 locked_until: dt.datetime | None, created_by: str, created_at: dt.datetime,
                 entities: Iterable[tuple[str, str]]) -> Account:
    """The account from its columns (an ORM object's, or a query's that read it with something else)."""
    return Account(id_, email, name, role, bool(active), tuple(sorted(entities)), bool(password_set), locked_until,
                   created_by, created_at)


def normalise_email(email: str) -> str:
    e = str(email).strip().lower()
    if len(e) > 254 or not _EMAIL.match(e):
        raise DataError(f"{email!r} is not an e-mail address", rule="user.email", field="email",
                        zh=f"{email!r} 不是电子邮箱地址")
    return e


def check_role(role: str) -> str:
    if role not in ROLES:
        raise DataError(f"role {role!r} is not one of {', '.join(ROLES)}", rule="user.role", field="role",
                        zh=f"角色 {role!r} 不是 {', '.join(ROLES)} 之一")
    return role


def check_entities(s: Session, role: str, entities: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """A submitter's entities: each registered (institution or vendor), at least one; other roles have none."""
    ents = sorted({(str(k), str(i)) for k, i in entities})
    if role != "submitter":
        if ents:
            raise DataError(f"only a submitter is bound to entities, not a {role}", rule="user.entities", field="entities",
                            zh=f"只有填报机构（submitter）账户绑定填报主体，{role} 不绑定")
        return ents
    if not ents:
        raise DataError("a submitter needs at least one entity (an institution or vendor it answers for)",
                        rule="user.entities", field="entities",
                        zh="填报机构账户至少需要一个填报主体（它代为填报的机构或服务商）")
    problems: list[tuple[str, str]] = []  # (English, Chinese)
    for kind, eid in ents:
        if kind not in TENANT_KINDS:
            problems.append((f"entity kind {kind!r} is not one of {', '.join(TENANT_KINDS)}",
                             f"主体类型 {kind!r} 不是 {', '.join(TENANT_KINDS)} 之一"))
            continue
        model = Institution if kind == "institution" else Vendor
        if s.get(model, eid) is None:
            problems.append((f"{kind} {eid!r} is not in the register", f"{kind} {eid!r} 不在名录中"))
    if problems:
        raise DataError("; ".join(en for en, _ in problems), rule="user.entities", field="entities",
                        zh="；".join(zh for _, zh in problems))
    return ents


def create_user(ws: Workspace, *, email: str, role: str, password: str | None = None, name: str | None = None,
                entities: Iterable[tuple[str, str]] = (), who: str = "cli", actor_id: int | None = None,
                ip: str | None = None, session: Session | None = None) -> Account:
    """A new account (audited). Without a password it cannot sign in until one is set (an invitation)."""
    email = normalise_email(email)
    check_role(role)
    if password is not None:
        check_new_password(password, email=email)

    def run(s: Session) -> Account:
        ents = check_entities(s, role, entities)
        if s.execute(select(UserAccount.id).where(UserAccount.email == email)).first() is not None:
            raise DataError(f"an account for {email} exists already", rule="user.exists", field="email",
                            zh=f"{email} 的账户已存在")
        now = dt.datetime.now(dt.UTC)
        u = UserAccount(email=email, name=name, role=role, password_hash=hash_password(password) if password else None,
                        active=True, failed_logins=0, created_by=who, created_at=now,
                        password_changed_at=now if password else None)
        u.entities = [UserEntity(entity_kind=k, entity_id=i) for k, i in ents]
        s.add(u)
        s.flush()
        audit(None, who, "user.create", f"user:{u.id}", {"email": email, "role": role, "entities": [list(e) for e in ents]},
              actor_id=actor_id, ip=ip, session=s)
        return account_of(u)

    if session is not None:
        return run(session)
    with writing(ws) as s:
        return run(s)


def get_user(ws: Workspace, user_id: int) -> Account | None:
    with ws.sessions() as s:
        u = s.get(UserAccount, user_id)
        return account_of(u) if u is not None else None


def find_user(ws: Workspace, email: str) -> Account | None:
    """The account of this e-mail address (None: no such account)."""
    with ws.sessions() as s:
        u = s.execute(select(UserAccount).where(UserAccount.email == str(email).strip().lower())).scalar_one_or_none()
        return account_of(u) if u is not None else None


def list_users(ws: Workspace, *, limit: int = 100, offset: int = 0) -> tuple[list[Account], int]:
    with ws.sessions() as s:
        total = s.execute(select(func.count()).select_from(UserAccount)).scalar_one()
        rows = s.execute(select(UserAccount).order_by(UserAccount.id).limit(limit).offset(offset)).scalars().all()
        return [account_of(u) for u in rows], int(total)


def count_admins(s: Session, *, excluding: int | None = None) -> int:
    stmt = select(func.count()).select_from(UserAccount).where(UserAccount.role == "administrator", UserAccount.active.is_(True))
    if excluding is not None:
        stmt = stmt.where(UserAccount.id != excluding)
    return int(s.execute(stmt).scalar_one())


def update_user(ws: Workspace, user_id: int, *, role: str | None = None, entities: Iterable[tuple[str, str]] | None = None,
                active: bool | None = None, name: str | None = None, unlock: bool = False, who: str,
                actor_id: int | None = None, ip: str | None = None) -> Account:
    """Change an account's role, entities, active flag or name, or lift its lockout; each change audited. The
    last active administrator cannot be demoted or disabled (the platform would have nobody to run it)."""
    with writing(ws) as s:
        u = s.get(UserAccount, user_id)
        if u is None:
            raise DataError(f"no user {user_id}", rule="user.not_found", zh=f"用户 {user_id} 不存在")
        new_role = check_role(role) if role is not None else u.role
        losing_admin = u.role == "administrator" and (new_role != "administrator" or active is False)
        if losing_admin and count_admins(s, excluding=u.id) == 0:
            raise DataError("this is the last active administrator: make another administrator first",
                            rule="user.last_admin", field="role" if role is not None else "active",
                            zh="这是最后一个有效的管理员账户：请先设置另一名管理员")
        current = [(e.entity_kind, e.entity_id) for e in u.entities]
        ents = check_entities(s, new_role, entities if entities is not None else ([] if new_role != "submitter" else current))
        if new_role != u.role:
            audit(None, who, "user.role", f"user:{u.id}", {"old": u.role, "new": new_role}, actor_id=actor_id, ip=ip, session=s)
            u.role = new_role
        if ents != sorted(current):
            audit(None, who, "user.entities", f"user:{u.id}", {"old": [list(e) for e in sorted(current)],
                                                                "new": [list(e) for e in ents]},
                  actor_id=actor_id, ip=ip, session=s)
            u.entities = [UserEntity(entity_kind=k, entity_id=i) for k, i in ents]
        if active is not None and bool(active) != bool(u.active):
            audit(None, who, "user.active", f"user:{u.id}", {"old": bool(u.active), "new": bool(active)}, actor_id=actor_id,
                  ip=ip, session=s)
            u.active = bool(active)
        if name is not None and name != u.name:
            u.name = name
        if unlock and (u.locked_until is not None or u.failed_logins):
            audit(None, who, "user.unlock", f"user:{u.id}", {"failed_logins": u.failed_logins}, actor_id=actor_id, ip=ip,
                  session=s)
            u.locked_until, u.failed_logins = None, 0
        s.flush()
        s.refresh(u)
        return account_of(u)


def set_password(ws: Workspace, user_id: int, password: str, *, who: str, actor_id: int | None = None,
                 ip: str | None = None, session: Session | None = None) -> None:
    """Set a password (an invitation accepted, an administrator's reset from the CLI); audited."""

    def run(s: Session) -> None:
        u = s.get(UserAccount, user_id)
        if u is None:
            raise DataError(f"no user {user_id}", rule="user.not_found", zh=f"用户 {user_id} 不存在")
        check_new_password(password, email=u.email)
        u.password_hash, u.password_changed_at = hash_password(password), dt.datetime.now(dt.UTC)
        u.failed_logins, u.locked_until = 0, None
        audit(None, who, "password.set", f"user:{u.id}", None, actor_id=actor_id, ip=ip, session=s)

    if session is not None:
        return run(session)
    with writing(ws) as s:
        run(s)


def change_password(ws: Workspace, user_id: int, current: str, new: str, *, ip: str | None = None) -> None:
    """The user's own change: the current password must be right (``password.wrong``)."""
    with writing(ws) as s:
        u = s.get(UserAccount, user_id)
        if u is None:
            raise DataError(f"no user {user_id}", rule="user.not_found", zh=f"用户 {user_id} 不存在")
        if not verify_password(u.password_hash, current):
            raise DataError("the current password is wrong", rule="password.wrong", field="current_password",
                            zh="当前密码错误")
        if current == new:
            raise DataError("the new password is the current one", rule="password.weak", field="new_password",
                            zh="新密码与当前密码相同")
        check_new_password(new, email=u.email)
        u.password_hash, u.password_changed_at = hash_password(new), dt.datetime.now(dt.UTC)
        audit(None, u.email, "password.change", f"user:{u.id}", None, actor_id=u.id, ip=ip, session=s)


def sign_in(ws: Workspace, email: str, password: str, *, limits: SignInLimits = SignInLimits(),
            ip: str | None = None, now: dt.datetime | None = None) -> Account:
    """The account whose e-mail and password these are, or :class:`SignInRefused` (module doc). Every
    attempt is audited (``sign_in.success`` / ``sign_in.failure`` with the reason); a refusal commits its
    audit entry and the account's failure count before it is raised."""
    now = now or dt.datetime.now(dt.UTC)
    address = str(email).strip().lower()[:254]
    with writing(ws) as s:
        outcome = _attempt(s, address, password, limits, ip, now)
        if isinstance(outcome, SignInRefused):
            reason = outcome.reason
        else:
            audit(None, outcome.email, "sign_in.success", f"user:{outcome.id}", None, actor_id=outcome.id, ip=ip, session=s)
            return outcome
        audit(None, address or "anonymous", "sign_in.failure", f"email:{address}", {"reason": reason},
              actor_id=outcome.user_id, ip=ip, session=s)
    raise outcome


def _attempt(s: Session, address: str, password: str, limits: SignInLimits, ip: str | None,
             now: dt.datetime) -> Account | SignInRefused:
    def refused(reason: str, message: tuple[str, str], rule: str, retry_after: float | None = None,
                user: UserAccount | None = None) -> SignInRefused:
        exc = SignInRefused(message[0], rule=rule, zh=message[1],
                            retry_after=None if retry_after is None else max(1, int(retry_after)))
        exc.reason, exc.user_id = reason, (user.id if user is not None else None)
        return exc

    window = dt.timedelta(minutes=limits.ip_window_minutes)
    if ip is not None and count_since(s, "sign_in.failure", now - window, ip=ip) >= limits.ip_max_failures:
        return refused("throttled", ("too many failed sign-ins from this address: try again later",
                                     "此地址登录失败次数过多，请稍后再试"), "sign_in.throttled", window.total_seconds())
    u = s.execute(select(UserAccount).where(UserAccount.email == address)).scalar_one_or_none()
    lock = dt.timedelta(minutes=limits.lockout_minutes)
    locked = ("this account is locked after too many failed sign-ins: try again later or ask an administrator",
              "此账户因登录失败次数过多已被锁定：请稍后再试或联系管理员")
    wrong = ("wrong e-mail or password", "电子邮箱或密码错误")
    if u is not None and u.locked_until is not None and u.locked_until > now:
        return refused("locked", locked, "sign_in.locked", (u.locked_until - now).total_seconds(), u)
    if u is None:
        burn_time(password)  # as long as a real check: timing does not tell which addresses have accounts
        if count_since(s, "sign_in.failure", now - lock, object=f"email:{address}") >= limits.max_failures:
            return refused("locked", locked, "sign_in.locked", lock.total_seconds())
        return refused("unknown", wrong, "sign_in.invalid")
    right = verify_password(u.password_hash, password)
    if not right or not u.active:
        u.failed_logins = (u.failed_logins or 0) + 1
        if u.failed_logins >= limits.max_failures:
            u.locked_until = now + lock
        return refused("inactive" if right else "password", wrong, "sign_in.invalid", user=u)
    if needs_rehash(u.password_hash):
        u.password_hash = hash_password(password)
    u.failed_logins, u.locked_until = 0, None
    return account_of(u)
