"""Who may do what: one table of permissions (each route names the one it needs), and the rules of which
entities and runs a role sees. Nothing else in the web package decides access.

* A permission lists the roles that hold it and the API-token scope it needs (``None``: a signed-in browser
  session only; a token can never manage accounts or mint tokens).
* Tenancy: administrators and evaluators see every entity; a submitter sees only the institutions and vendors
  it is bound to (``user_entity``); a viewer sees no entity register at all. Viewers and submitters see only
  published runs. An object the caller may not see answers 404, exactly like one that does not exist.

``docs/web.md`` shows this table; ``tests/web/test_docs_policy.py`` keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store.models import ROLES

STAFF = ("administrator", "evaluator")


@dataclass(frozen=True)
class Permission:
    name: str
    roles: tuple[str, ...]
    scope: str | None  # the token scope it needs; None = a browser session only
    description: str
    tenancy: str = "every object"  # what a role holding it sees


PERMISSIONS: dict[str, Permission] = {p.name: p for p in (
    Permission("account.read", ROLES, "read", "who am I: my account, role and entities"),
    Permission("account.manage", ROLES, None, "change my password, sign out, create, list and revoke my API tokens",
               "own account only"),
    Permission("users.manage", ("administrator",), "admin", "create users, list them, set role and entities, disable, unlock"),
    Permission("audit.read", ("administrator",), "admin", "read the audit log"),
    Permission("invitations.manage", STAFF, "admin", "invite submitters (one-time links), list and revoke invitations"),
    Permission("registers.read", (*STAFF, "submitter"), "read", "list and show registered institutions and vendors",
               "submitter: its own entities only"),
    Permission("campaigns.read", (*STAFF, "submitter"), "read", "list and show campaigns and their status",
               "submitter: campaigns that ask its entities, and only its own rows of the status"),
    Permission("campaigns.chase", STAFF, "read", "reporting rates and the list of who has sent nothing"),
    Permission("submissions.read", (*STAFF, "submitter"), "read", "list and show returns and their history", "submitter: its own entities' returns only"),
    Permission("submissions.write", (*STAFF, "submitter"), "submit", "save drafts and submit returns", "submitter: its own entities only"),
    Permission("runs.read", ROLES, "read", "list and show evaluation runs",
               "viewer and submitter: published runs only"),
    Permission("catalog.read", ROLES, "read", "read the framework catalog (indicators, variables per sector)"),
)}  # fmt: skip


def allows(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission].roles


def sees_all_entities(role: str) -> bool:
    return role in STAFF


def sees_drafts(role: str) -> bool:
    """Unpublished (draft) runs: administrators and evaluators only."""
    return role in STAFF
