"""The REST API at /api/v1: one NinjaAPI, one router per area (officers' requests, and the
staff's review, holds, policy and audit)."""

from __future__ import annotations

from ninja import NinjaAPI

import govreq
from govreq.api.agencies import router as agencies_router
from govreq.api.audit import router as audit_router
from govreq.api.auth import TokenAuth
from govreq.api.backtests import router as backtests_router
from govreq.api.errors import install_error_handlers
from govreq.api.holds import router as holds_router
from govreq.api.notices import gag_extensions_router, notices_router, request_notices_router
from govreq.api.policy import router as policy_router
from govreq.api.productions import productions_router, request_productions_router
from govreq.api.requests import router as requests_router
from govreq.api.staff_requests import router as staff_requests_router

api = NinjaAPI(
    title="govreq",
    version=govreq.__version__,
    description=(
        "Submit and follow government requests for user data (agency officers), and review them "
        "(platform staff). Authenticate with a personal API token: `Authorization: Bearer grq_...`."
    ),
    auth=TokenAuth(),
    urls_namespace="api-v1",
    docs_url=None,  # interactive docs are served only to signed-in staff, see govreq.urls
)
install_error_handlers(api)
# A request's productions and deliveries live under /staff/requests/{id}/ beside its review.
staff_requests_router.add_router("", request_productions_router, tags=["staff: disclosure"])
staff_requests_router.add_router("", request_notices_router, tags=["staff: user notice"])
api.add_router("/requests", requests_router, tags=["agency requests"])
api.add_router("/staff/requests", staff_requests_router, tags=["staff: review"])
api.add_router("/staff/productions", productions_router, tags=["staff: disclosure"])
api.add_router("/staff/notices", notices_router, tags=["staff: user notice"])
api.add_router("/staff/gag-extensions", gag_extensions_router, tags=["staff: user notice"])
api.add_router("/staff/holds", holds_router, tags=["staff: holds"])
api.add_router("/staff/backtests", backtests_router, tags=["staff: holds"])
api.add_router("/staff/agencies", agencies_router, tags=["staff: agencies"])
api.add_router("/staff/policy", policy_router, tags=["staff: policy"])
api.add_router("/staff/audit", audit_router, tags=["staff: audit"])
