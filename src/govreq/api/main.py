"""The REST API at /api/v1: one NinjaAPI, one router per app."""

from __future__ import annotations

from ninja import NinjaAPI

import govreq
from govreq.api.auth import TokenAuth
from govreq.api.errors import install_error_handlers
from govreq.audit.api import router as audit_router
from govreq.holds.api import router as holds_router
from govreq.intake.api import router as intake_router
from govreq.policy.api import router as policy_router
from govreq.review.api import router as review_router

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
api.add_router("/requests", intake_router, tags=["agency requests"])
api.add_router("/staff/requests", review_router, tags=["staff: review"])
api.add_router("/staff/holds", holds_router, tags=["staff: holds"])
api.add_router("/staff/policy", policy_router, tags=["staff: policy"])
api.add_router("/staff/audit", audit_router, tags=["staff: audit"])
