"""One router per resource under ``/api/v1``, and the pages; :data:`ROUTERS` is what the app mounts.

Submissions and their review (draft → submitted → returned → resubmitted → accepted, idempotency keys) will
get their own module here, ``submissions.py``, over ``fintech_eval.app.submissions``, with its permissions
(``submissions.write`` for a submitter's own entities, ``submissions.review`` for staff) added to
:mod:`fintech_eval.web.policy`.
"""

from . import (
           account,
           account_pages,
           audit,
           campaigns,
           catalog,
           health,
           invitations,
           pages,
           registers,
           runs,
           submissions,
           tokens,
           users,
)

API_PREFIX = "/api/v1"
ROUTERS = (health.router, account.router, users.router, tokens.router, invitations.router, audit.router,
           registers.router, campaigns.router, runs.router, catalog.router,
           submissions.router)
PAGE_ROUTERS = (pages.router, account_pages.router)
