"""Admin for coalitions, members, memberships, profiles and API keys; writes go through the services."""

from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from coalition import services
from coalition.admin_services import ServiceAdminMixin, ServiceForm, ServiceInline, changes
from coalition.models import APIKey, Coalition, Member, Membership, Profile


class MembershipInline(ServiceInline):
    model = Membership
    fields = ("member", "role", "since")
    autocomplete_fields = ("member",)
    locked_on_change = ("member",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        member = original.member if original else data["member"]
        return services.membership_set(
            acting_user=request.user, coalition=parent, member=member, role=data["role"], since=data["since"]
        )

    def service_delete(self, request, obj):
        services.membership_remove(acting_user=request.user, membership=obj)


@admin.register(Coalition)
class CoalitionAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = ServiceForm
    coalition_path = "pk"
    list_display = ("name", "slug", "target_eur", "member_count", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)
    fields = ("name", "slug", "description", "target_eur", "reporting_currency", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        computed = ("reporting_currency", "created_at", "updated_at")
        return computed if obj is None else ("slug", *computed)

    def get_prepopulated_fields(self, request, obj=None):
        return self.prepopulated_fields if obj is None else {}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships", distinct=True))

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        if original is None:
            return services.coalition_create(
                acting_user=request.user,
                name=data["name"],
                slug=data["slug"],
                description=data["description"],
                target_eur=data["target_eur"],
            )
        return services.coalition_update(
            acting_user=request.user, coalition=original, **changes(form, ("name", "description", "target_eur"))
        )


@admin.register(Member)
class MemberAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = ServiceForm
    coalition_path = "memberships__coalition"
    list_display = ("code", "name", "kind")
    list_filter = ("kind", "memberships__coalition")
    search_fields = ("code", "name")
    fields = ("code", "name", "kind")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("code",)

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        from coalition.permissions import visible_members

        return visible_members(request.user, queryset)

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        if original is None:
            return services.member_create(
                acting_user=request.user, code=data["code"], name=data["name"], kind=data["kind"]
            )
        return services.member_update(acting_user=request.user, member=original, name=data["name"], kind=data["kind"])


@admin.register(Membership)
class MembershipAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = ServiceForm
    list_display = ("member", "coalition", "role", "since")
    list_filter = ("coalition", "role")
    search_fields = ("member__code", "member__name", "coalition__name")
    list_select_related = ("member", "coalition")
    autocomplete_fields = ("member", "coalition")
    fields = ("coalition", "member", "role", "since")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("coalition", "member")

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        coalition = original.coalition if original else data["coalition"]
        member = original.member if original else data["member"]
        return services.membership_set(
            acting_user=request.user, coalition=coalition, member=member, role=data["role"], since=data["since"]
        )

    def service_delete(self, request, obj):
        services.membership_remove(acting_user=request.user, membership=obj)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    """Where a user works. Profiles are made with the user (a signal); roles are the user's groups."""

    list_display = ("user", "member", "coalition_list", "language", "roles")
    list_filter = ("coalitions", "member__kind", "language", "user__groups")
    search_fields = ("user__username", "user__email", "member__code", "member__name")
    list_select_related = ("user", "member")
    autocomplete_fields = ("member",)
    filter_horizontal = ("coalitions",)
    readonly_fields = ("user",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("coalitions", "user__groups")

    @admin.display(description=_("coalitions"))
    def coalition_list(self, obj):
        return ", ".join(coalition.slug for coalition in obj.coalitions.all())

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return ", ".join(group.name for group in obj.user.groups.all())

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class APIKeyForm(ServiceForm):
    class Meta:
        model = APIKey
        fields = ("owner", "name")


@admin.register(APIKey)
class APIKeyAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Keys are listed and revoked here; a new one is shown once, then only its digest is kept."""

    form = APIKeyForm
    coalition_path = "owner__profile__coalitions"
    list_display = ("name", "prefix", "owner", "created_at", "last_used_at", "revoked_at", "active")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("name", "prefix", "owner__username", "owner__email")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("owner", "name")
        return ("name", "prefix", "owner", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.get_fields(request, obj)

    @admin.display(description=_("active"), boolean=True)
    def active(self, obj):
        return obj.is_active

    def service_save(self, request, form, original, parent=None):
        if original is not None:
            return None  # every field is read-only once the key exists
        api_key, raw = services.api_key_create(owner=form.cleaned_data["owner"], name=form.cleaned_data["name"])
        messages.warning(
            request,
            _("The new key for %(owner)s is %(key)s — copy it now: it is not stored and will not be shown again.")
            % {"owner": api_key.owner, "key": raw},
        )
        return api_key

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        self.run_service_action(
            request,
            queryset.select_related("owner"),
            lambda key: services.api_key_revoke(acting_user=request.user, api_key=key),
            _("%(count)s keys revoked."),
        )
