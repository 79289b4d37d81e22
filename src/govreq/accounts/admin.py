from django.contrib import admin

from govreq.accounts.models import User
from govreq.core.admin import ReadOnlyAdmin


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["email", "name", "is_active", "is_superuser"]
    search_fields = ["email", "name"]
    exclude = ["password"]
