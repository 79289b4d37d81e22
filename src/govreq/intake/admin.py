from django.contrib import admin

from govreq.core.admin import ReadOnlyAdmin
from govreq.intake.models import LegalRequest


@admin.register(LegalRequest)
class LegalRequestAdmin(ReadOnlyAdmin):
    list_display = ["reference", "agency", "jurisdiction", "kind", "status", "received_at"]
    list_filter = ["status", "kind", "jurisdiction"]
    search_fields = ["reference", "agency_case_number"]
    list_select_related = ["agency", "jurisdiction"]
    date_hierarchy = "received_at"
