from django.contrib import admin

from openhotline.accounts.models import ApiToken, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "kind", "country"]
    list_filter = ["kind"]


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ["username", "role", "organisation", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    fields = ["username", "email", "role", "organisation", "is_active"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["token_id", "user", "name", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["token_id", "digest", "user", "created_at", "last_used_at"]
