from django.contrib import admin

from govreq.agencies.models import Agency, Officer
from govreq.core.admin import ReadOnlyAdmin


@admin.register(Agency)
class AgencyAdmin(ReadOnlyAdmin):
    list_display = ["id", "name", "jurisdiction", "kind", "status", "verified_at"]
    list_filter = ["status", "kind", "jurisdiction"]
    search_fields = ["name", "domains__domain"]


@admin.register(Officer)
class OfficerAdmin(ReadOnlyAdmin):
    list_display = ["id", "email", "name", "agency", "status"]
    list_filter = ["status"]
    search_fields = ["email", "name"]
    list_select_related = ["agency"]
