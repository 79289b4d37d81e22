from django.contrib import admin

from govreq.core.admin import ReadOnlyAdmin
from govreq.transparency.models import PublishedReport


@admin.register(PublishedReport)
class PublishedReportAdmin(ReadOnlyAdmin):
    list_display = ["period", "version", "published_at", "published_by", "key_id", "audit_head_seq"]
    list_filter = ["period"]
    exclude = ["body"]
