from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from django.db.models.signals import post_save

        from coalition.models import Member
        from coalition.signals import seat_changed
        from contributions.signals import pledge_confirmed
        from meetings.signals import meeting_held
        from reports import receivers

        pledge_confirmed.connect(receivers.on_pledge_confirmed, dispatch_uid="reports_pledge_confirmed")
        meeting_held.connect(receivers.on_meeting_held, dispatch_uid="reports_meeting_held")
        seat_changed.connect(receivers.on_seat_changed, dispatch_uid="reports_default_subscriptions")
        post_save.connect(receivers.on_member_saved, sender=Member, dispatch_uid="reports_public_member_saved")
