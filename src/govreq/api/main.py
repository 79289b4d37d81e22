"""The REST API at /api/v1: one NinjaAPI, one router per app."""

from __future__ import annotations

from ninja import NinjaAPI

import govreq
from govreq.api.auth import TokenAuth
from govreq.api.errors import install_error_handlers
from govreq.intake.api import router as intake_router

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
