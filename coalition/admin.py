"""Admin for coalitions, members, memberships, people (their seats, inline on the user) and API keys;
writes go through the services."""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from coalition import outbox, services
from coalition.admin_services import (
    AdministratorsReadOnlyAdminMixin,
    ReadOnlyAdminMixin,
    ServiceAdminMixin,
    ServiceForm,
    ServiceInline,
    ServiceInlinesMixin,
    changes,
)
from coalition.models import (
    APIKey,
    Change,
    Coalition,
    CoalitionStamp,
    FormerSeat,
    Member,
    Membership,
    OutboxMessage,
    Profile,
    Seat,
    SecurityEvent,
)


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
    list_display = ("name", "slug", "target_eur", "public", "member_count", "created_at")
    list_filter = ("public",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)
    fields = ("name", "slug", "description", "target_eur", "public", "reporting_currency", "created_at", "updated_at")

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
            acting_user=request.user, coalition=original, **changes(form, Coalition.editable_fields)
        )


@admin.register(Member)
class MemberAdmin(ServiceAdminMixin, admin.ModelAdmin):
    form = ServiceForm
    list_display = ("code", "name", "kind", "iati_identifier")
    list_filter = ("kind", "memberships__coalition")
    search_fields = ("code", "name")
    fields = ("code", *Member.editable_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("code",)

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        if original is None:
            return services.member_create(
                acting_user=request.user,
                code=data["code"],
                name=data["name"],
                kind=data["kind"],
                iati_identifier=data["iati_identifier"],
            )
        return services.member_update(
            acting_user=request.user, member=original, **{name: data[name] for name in Member.editable_fields}
        )


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


class SeatInline(ServiceInline):
    """A person's seats: their role in each coalition (and the member a member editor speaks for)."""

    model = Seat
    fk_name = "user"
    fields = ("coalition", "role", "member")
    autocomplete_fields = ("coalition", "member")
    locked_on_change = ("coalition",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("coalition", "member")

    def service_save(self, request, form, original, parent=None):
        data = form.cleaned_data
        seat, _previous = services.seat_set(
            acting_user=request.user,
            user=parent,
            coalition=original.coalition if original else data["coalition"],
            role=data["role"],
            member=data.get("member"),
        )
        return seat

    def service_delete(self, request, obj):
        services.seat_remove(acting_user=request.user, user=obj.user, coalition=obj.coalition)


class ProfileInline(admin.StackedInline):
    model = Profile
    fields = ("language",)
    can_delete = False
    max_num = 1


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class UserAdmin(ServiceInlinesMixin, DjangoUserAdmin):
    """Django's user admin, with the person's seats and preferences inline; the seats are written by
    the seat services (the same as grant_role and revoke_role), in the page's one transaction."""

    inlines = (SeatInline, ProfileInline)
    list_display = ("username", "email", "is_active", "is_superuser", "seat_list")
    actions = ("unlock_signin",)

    @admin.action(description=_("Unlock sign-in (lift the failed-attempt limit)"))
    def unlock_signin(self, request, queryset):
        for user in queryset:
            services.signin_unlock(acting_user=request.user, user=user)
        self.message_user(request, _("Sign-in unlocked for %(count)s accounts.") % {"count": len(queryset)})

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("seats__coalition")

    @admin.display(description=_("seats"))
    def seat_list(self, obj):
        return ", ".join(f"{seat.coalition.slug}: {seat.role}" for seat in obj.seats.all())


@admin.register(Seat)
class SeatAdmin(admin.ModelAdmin):
    """Every seat, to find who holds which role where; they are changed on the user's page."""

    list_display = ("user", "coalition", "role", "member", "updated_at")
    list_filter = ("coalition", "role")
    search_fields = ("user__username", "user__email", "coalition__slug", "member__code")
    list_select_related = ("user", "coalition", "member")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


class APIKeyForm(ServiceForm):
    class Meta:
        model = APIKey
        fields = ("owner", "name")


@admin.register(APIKey)
class APIKeyAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Keys are listed and revoked here; a new one is shown once, then only its digest is kept."""

    form = APIKeyForm
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
        api_key, raw = services.api_key_create(
            owner=form.cleaned_data["owner"], name=form.cleaned_data["name"], acting_user=request.user
        )
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


@admin.register(SecurityEvent)
class SecurityEventAdmin(AdministratorsReadOnlyAdminMixin, admin.ModelAdmin):
    """The security log, read-only: events leave it only by the retention sweep."""

    list_display = ("created_at", "kind", "username", "actor", "ip_address", "detail")
    list_filter = ("kind", "created_at")
    search_fields = ("username", "user__username", "ip_address")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "kind", "user", "username", "actor", "ip_address", "user_agent", "detail")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(AdministratorsReadOnlyAdminMixin, admin.ModelAdmin):
    """The side effects writes asked for (report emails, imports to run) and whether they ran: a row
    that stays undone says the broker or a worker is missing. Written by the services, never here."""

    list_display = ("task", "kwargs", "created_at", "dispatched_at", "dispatches", "done_at", "last_error")
    list_filter = (("done_at", admin.EmptyFieldListFilter), "task")
    search_fields = ("task",)
    actions = ("hand_over_again",)

    @admin.action(description=_("Hand the selected tasks to the broker again"))
    def hand_over_again(self, request, queryset):
        sent = outbox.dispatch(list(queryset.filter(done_at__isnull=True).values_list("pk", flat=True)))
        self.message_user(request, _("%(count)s tasks handed to the broker.") % {"count": sent}, messages.SUCCESS)


@admin.register(Change)
class ChangeAdmin(AdministratorsReadOnlyAdminMixin, admin.ModelAdmin):
    """The change feed's rows, read-only: written by the writes themselves (coalition.changes)."""

    list_display = ("id", "txid", "resource", "key", "kind", "action", "coalition_id", "audience", "occurred_at")
    list_filter = ("resource", "kind")
    search_fields = ("key",)


@admin.register(FormerSeat)
class FormerSeatAdmin(AdministratorsReadOnlyAdminMixin, admin.ModelAdmin):
    """Seats as they were before a change, read-only: the change feed judges older rows by them."""

    list_display = ("id", "user_id", "coalition_id", "role", "member_id", "ended_txid", "ended_row", "ended_at")
    list_filter = ("role",)
    search_fields = ("user_id",)


@admin.register(CoalitionStamp)
class CoalitionStampAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Each coalition's change stamp: the key of its cached figures, moved by the write services."""

    list_display = ("coalition", "stamp")
    list_select_related = ("coalition",)
