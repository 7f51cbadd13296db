"""One router per resource under ``/api/v1``, and the pages; :data:`ROUTERS` is what the app mounts.

``submissions.py``: returns submitted and read (``submissions.read``/``submissions.write``) over
``fintech_eval.app.submissions``; their review gets its own module.
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
