"""Administration: tenant grants (who may see and change which tenant) and the change history."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .. import access
from ..models import ImportJob, ObjectChange, TenantGrant
from .base import TenantFilter


class SuperuserOnlyMixin:
    """Grants and users are a superuser's (configdb.access.is_unrestricted, the rule the services apply)."""

    def has_module_permission(self, request):
        return access.is_unrestricted(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_unrestricted(request.user)

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(TenantGrant)
class TenantGrantAdmin(SuperuserOnlyMixin, admin.ModelAdmin):
    gax_section = "Administration"
    list_display = ["user", "tenant", "access"]
    list_filter = ["access", ("tenant", TenantFilter)]
    search_fields = ["user__username", "tenant__name"]
    autocomplete_fields = ["user", "tenant"]


class TenantGrantInline(SuperuserOnlyMixin, admin.TabularInline):
    model = TenantGrant
    extra = 0
    autocomplete_fields = ["tenant"]

    def has_add_permission(self, request, obj=None):
        return access.is_unrestricted(request.user)


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class PacingUserAdmin(UserAdmin):
    gax_section = "Administration"
    inlines = [*UserAdmin.inlines, TenantGrantInline]


@admin.register(ObjectChange)
class ObjectChangeAdmin(admin.ModelAdmin):
    """Read-only list of every recorded change, scoped to the tenants the user may read."""

    gax_section = "Administration"
    list_display = ["time", "actor", "via", "action", "content_type", "object_repr"]
    list_filter = ["action", "via", ("tenant", TenantFilter), ("content_type", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["object_repr", "actor"]
    date_hierarchy = "time"
    list_select_related = ["content_type"]
    readonly_fields = [f.name for f in ObjectChange._meta.fields]
    show_full_result_count = False

    def get_queryset(self, request):
        return access.scope(super().get_queryset(request), request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only list of the background configuration imports (POST /api/v1/config/import/ above the size
    threshold): a user sees their own jobs, a superuser every job."""

    gax_section = "Administration"
    list_display = ["created", "tenant", "user", "state", "done", "total", "replace", "dry_run", "finished"]
    list_filter = ["state", "tenant", "replace", "dry_run"]
    search_fields = ["tenant", "user__username"]
    date_hierarchy = "created"
    list_select_related = ["user"]
    exclude = ["document"]
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name != "document"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user, "view").defer("document")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
