"""One router per resource under ``/api/v1``, and the pages; :data:`ROUTERS` is what the app mounts.

Each module's routes name their permission (:mod:`fintech_eval.web.policy`); pages are guarded by
:func:`fintech_eval.web.pagekit.page_guard`.
"""

from . import (
           account,
           account_pages,
           audit,
           campaign_pages,
           campaigns,
           catalog,
           forms,
           health,
           invitations,
           job_pages,
           jobs,
           pages,
           registers,
           result_pages,
           return_pages,
           reviews,
           runs,
           submissions,
           tokens,
           users,
           vendor_pages,
           vendors,
)

API_PREFIX = "/api/v1"
#: The submissions' routes first: a request is matched against the routes in this order, and returns posted by
#: the hundred are the server's busiest requests (no two routers here share a method and path).
ROUTERS = (submissions.router,
           health.router, account.router, users.router, tokens.router, invitations.router, audit.router,
           registers.router, campaigns.router, runs.router, jobs.router, catalog.router,
           vendors.router,
           reviews.router,
           forms.router,
           )
PAGE_ROUTERS = (pages.router, account_pages.router,
                vendor_pages.router,
                result_pages.router,
                job_pages.router,
                campaign_pages.router,
                return_pages.router,
                )
