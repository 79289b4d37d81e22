from django.urls import path

from govreq.transparency import views

app_name = "transparency"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("rules/", views.rules, name="rules"),
    path("audit-checkpoints.json", views.audit_checkpoints_json, name="audit-checkpoints"),
    # Drafts come before the published patterns, which would read "draft" as a period.
    path("draft/<str:period>/", views.draft_period, name="draft-period"),
    path("draft/<str:period>/report.<str:suffix>", views.draft_download, name="draft-download"),
    path("draft/<str:period>/<str:code>/", views.draft_jurisdiction, name="draft-jurisdiction"),
    path("<str:period>/", views.period_page, name="period"),
    path("<str:period>/report.<str:suffix>", views.download, name="download"),
    path("<str:period>/<str:code>/", views.jurisdiction_page, name="jurisdiction"),
]
