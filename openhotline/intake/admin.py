from django.contrib import admin

from openhotline.accounts.admin import AuditedAdmin
from openhotline.intake.models import Portal


@admin.register(Portal)
class PortalAdmin(AuditedAdmin[Portal]):
    list_display = ["name", "slug", "country", "organisation", "is_active"]
    list_filter = ["is_active", "country"]
    search_fields = ["name", "slug"]
