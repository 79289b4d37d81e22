from django.urls import path

from govreq.console import backtesting, views

app_name = "console"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("sign-in", views.sign_in, name="sign-in"),
    path("sign-in/verify", views.verify, name="verify"),
    path("sign-in/enrol", views.enrol, name="enrol"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("requests/<uuid:request_id>", views.case, name="case"),
    path(
        "requests/<uuid:request_id>/decision-fields",
        views.decision_fields,
        name="decision-fields",
    ),
    path("requests/<uuid:request_id>/<slug:action>", views.case_action, name="case-action"),
    path("documents/<int:document_id>", views.document_download, name="document"),
    path("documents/<int:document_id>/view", views.document_view, name="document-view"),
    path("holds", views.holds, name="holds"),
    path("holds/new", views.hold_new, name="hold-new"),
    path("holds/backtest", backtesting.backtest_page, name="backtest"),
    path("holds/<int:hold_id>", views.hold_detail, name="hold"),
    path("holds/<int:hold_id>/lift", views.hold_lift, name="hold-lift"),
    path("holds/<int:hold_id>/void", views.hold_void, name="hold-void"),
    path("holds/changes/<int:change_id>", views.hold_change, name="hold-change"),
    path(
        "holds/changes/<int:change_id>/decide",
        views.hold_change_decide,
        name="hold-change-decide",
    ),
    path("re-reviews/<int:flag_id>/resolve", views.re_review_resolve, name="re-review-resolve"),
    path("agencies", views.agencies, name="agencies"),
    path("agencies/<int:agency_id>", views.agency_detail, name="agency"),
    path("agencies/<int:agency_id>/verify", views.agency_verify, name="agency-verify"),
    path("agencies/<int:agency_id>/reverify", views.agency_reverify, name="agency-reverify"),
    path("agencies/<int:agency_id>/contacts", views.agency_contact_add, name="agency-contact-add"),
    path("agencies/<int:agency_id>/suspend", views.agency_suspend, name="agency-suspend"),
    path(
        "agencies/<int:agency_id>/officer-totp",
        views.agency_officer_totp,
        name="agency-officer-totp",
    ),
    path("access-requests", views.access_requests, name="access-requests"),
    path("audit", views.audit, name="audit"),
    path("tasks", views.tasks, name="tasks"),
    path("preferences", views.preferences, name="preferences"),
    path("preferences/time-zone", views.time_zone_detect, name="time-zone-detect"),
    path("tasks/<uuid:task_id>/retry", views.task_retry_view, name="task-retry"),
]
