from django.contrib import admin

from govreq.audit.models import AuditCheckpoint, AuditEvent
from govreq.core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "occurred_at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action", "actor_kind"]
    search_fields = ["object_id", "actor_label"]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "made_at", "hash", "key_id"]
