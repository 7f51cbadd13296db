"""Who may do what: one table of permissions (each route names the one it needs), and the rules of which
entities and runs a role sees. Nothing else in the web package decides access.

* A permission lists the roles that hold it and the API-token scope it needs (``None``: a signed-in browser
  session only; a token can never manage accounts or mint tokens).
* Tenancy: administrators and evaluators see every entity; a submitter sees only the institutions and vendors
  it is bound to (``user_entity``); a viewer sees no entity register at all. Campaigns
  (:data:`CAMPAIGN_SCOPE`): administrators see every one, an evaluator those it is assigned to
  (``campaign_staff``; creating one in the web platform assigns its creator), a submitter those whose sample
  asks its entities. Viewers and submitters see only published runs. A vendor's submitter sees its vendors'
  published assessments and their self-assessments (:func:`sees_assessment`; what it may do to one, by stage:
  :data:`ASSESSMENT_ACTIONS`). An object the caller may not see answers 404, exactly like one that does not
  exist.

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
    Permission("invitations.manage", STAFF, "admin", "invite submitters (one-time links), list and revoke invitations",
               "evaluator: invitations sent outside a campaign or for its campaigns"),
    Permission("registers.read", (*STAFF, "submitter"), "read", "list and show registered institutions and vendors",
               "submitter: its own entities only"),
    Permission("campaigns.read", (*STAFF, "submitter"), "read", "list and show campaigns and their status",
               "evaluator: campaigns it is assigned to; submitter: campaigns that ask its entities, and only its own rows of the status"),
    Permission("campaigns.chase", STAFF, "read", "reporting rates and the list of who has sent nothing",
               "evaluator: campaigns it is assigned to"),
    Permission("campaigns.manage", STAFF, "admin",
               "create campaigns, change their deadline and name, assign evaluators, invite the sample's submitters",
               "evaluator: campaigns it is assigned to (a campaign it creates is assigned to it)"),
    Permission("submissions.read", (*STAFF, "submitter"), "read", "list and show returns and their history",
               "evaluator: returns of its campaigns; submitter: its own entities' returns only"),
    Permission("submissions.write", (*STAFF, "submitter"), "submit", "save drafts and submit returns",
               "evaluator: its campaigns' questionnaires; submitter: its own entities only"),
    Permission("submissions.review", STAFF, "admin", "review returns: return with comments per field, accept (one or many), reject, reopen",
               "evaluator: returns of its campaigns"),
    Permission("runs.read", ROLES, "read", "list and show evaluation runs, their results and reports",
               "evaluator: runs of its campaigns; viewer and submitter: published runs only; submitter: its own scorecards, its peers as the publisher allows"),
    Permission("runs.write", STAFF, "admin", "score stored data as a run and publish a run",
               "evaluator: its campaigns"),
    Permission("jobs.read", STAFF, "read", "follow background jobs (scoring a campaign): state, progress, result, problem",
               "evaluator: jobs of its campaigns"),
    Permission("jobs.manage", STAFF, "admin", "cancel a queued or running background job",
               "evaluator: jobs of its campaigns"),
    Permission("catalog.read", ROLES, "read", "read the framework catalog (indicators, variables per sector)"),
    Permission("vendors.read", (*STAFF, "submitter"), "read", "list vendors' capability assessments, read a rating",
               "submitter: its own vendors' published ratings and self-assessments only"),
    Permission("vendors.rate", STAFF, "submit",
               "open a vendor assessment (for the evaluator or as the vendor's self-assessment), return a submitted self-assessment, publish"),
    Permission("vendors.answer", (*STAFF, "submitter"), "submit", "answer the rubric of a vendor assessment, upload and withdraw evidence",
               "submitter: its own vendors' self-assessments while it fills them (its own files only)"),
    Permission("vendors.submit", ("submitter",), "submit", "submit its vendor's self-assessment to the evaluator",
               "its own vendors' self-assessments"),
)}  # fmt: skip


#: Which campaigns a role sees: ``all``; ``assigned`` (``campaign_staff``); ``entities`` (those whose sample asks
#: the account's institutions); ``none``.
CAMPAIGN_SCOPE: dict[str, str] = {"administrator": "all", "evaluator": "assigned", "submitter": "entities",
                                  "viewer": "none"}


def allows(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission].roles


def sees_all_entities(role: str) -> bool:
    return role in STAFF


def sees_drafts(role: str) -> bool:
    """Unpublished (draft) runs: administrators and evaluators only."""
    return role in STAFF


#: What may be done to a draft vendor assessment, by who holds it (its stage, ``app.vendor_stages``) and who
#: asks (``staff`` or the vendor's own submitter): the pages show these buttons; the application refuses the
#: rest (409). A published assessment allows nothing.
ASSESSMENT_ACTIONS: dict[tuple[str, str], frozenset[str]] = {
    ("staff", "evaluator"): frozenset({"answer", "publish"}),
    ("staff", "self_assessment"): frozenset({"answer"}),
    ("staff", "submitted"): frozenset({"answer", "publish", "return"}),
    ("vendor", "evaluator"): frozenset(),  # never shown: the vendor does not see it (404)
    ("vendor", "self_assessment"): frozenset({"answer", "submit"}),
    ("vendor", "submitted"): frozenset(),
}


def assessment_actions(role: str, status: str, stage: str) -> frozenset[str]:
    """What ``role`` may do to an assessment in ``status`` and ``stage`` (see :data:`ASSESSMENT_ACTIONS`)."""
    if status != "draft" or role not in PERMISSIONS["vendors.read"].roles:
        return frozenset()
    return ASSESSMENT_ACTIONS[("staff" if role in STAFF else "vendor", stage)]


def sees_assessment(role: str, status: str, stage: str) -> bool:
    """Staff see every assessment; a vendor's submitter its vendor's published ones and self-assessments."""
    return role in STAFF or status == "published" or stage != "evaluator"
