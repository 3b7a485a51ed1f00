"""``manage.py send_report digest|meeting|notice --coalition SLUG [--meeting ID] [--pledge ID] [--to EMAIL]``:
queue a report now, for its subscribers or for one address. What was sent already for the same
period is not sent again (the delivery ledger decides)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from coalition.models import Coalition
from contributions.models import Pledge
from meetings.models import Meeting
from reports import tasks
from reports.models import Report


class Command(BaseCommand):
    help = "Queue a report email now: the digest, a meeting's summary or a pledge's confirmation notice."

    def add_arguments(self, parser):
        parser.add_argument("report", choices=Report.values)
        parser.add_argument("--coalition", metavar="SLUG", required=True)
        parser.add_argument("--meeting", metavar="ID", type=int, help="the held meeting (meeting summary)")
        parser.add_argument("--pledge", metavar="ID", type=int, help="the confirmed pledge (confirmation notice)")
        parser.add_argument("--to", metavar="EMAIL", help="send to this address only, not to the subscribers")

    def handle(self, *args, report, coalition, meeting=None, pledge=None, to=None, **options):
        coalition_obj = Coalition.objects.filter(slug=coalition).first()
        if coalition_obj is None:
            known = ", ".join(Coalition.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No coalition with slug {coalition!r} (known: {known}).")
        if to:
            try:
                validate_email(to)
            except ValidationError as exc:
                raise CommandError(f"--to {to!r} is not an email address.") from exc
        if report == Report.DIGEST:
            queued = tasks.send_digest(coalition_obj.pk, to=to)
            what = f"the digest of {coalition_obj.slug}"
        elif report == Report.MEETING:
            if meeting is None:
                raise CommandError("A meeting summary needs --meeting ID.")
            meeting_obj = Meeting.objects.filter(pk=meeting, coalition=coalition_obj).first()
            if meeting_obj is None:
                raise CommandError(f"No meeting {meeting} in {coalition_obj.slug}.")
            if meeting_obj.status != Meeting.Status.HELD:
                raise CommandError(f"Meeting {meeting} is {meeting_obj.status}: a summary follows a held meeting.")
            queued = tasks.send_meeting_summary(meeting_obj.pk, to=to)
            what = f"the summary of meeting {meeting_obj.pk} ({meeting_obj.title})"
        else:
            if pledge is None:
                raise CommandError("A confirmation notice needs --pledge ID.")
            pledge_obj = Pledge.objects.filter(pk=pledge, coalition=coalition_obj).first()
            if pledge_obj is None:
                raise CommandError(f"No pledge {pledge} in {coalition_obj.slug}.")
            if pledge_obj.status not in Pledge.CONFIRMED_STATUSES:
                raise CommandError(f"Pledge {pledge} is {pledge_obj.status}: a notice follows a confirmation.")
            queued = tasks.send_confirmation_notice(pledge_obj.pk, to=to)
            what = f"the confirmation notice of pledge {pledge_obj.pk}"
        audience = to or "the subscribers"
        if queued:
            self.stdout.write(f"Queued {what} for {audience}: {queued} email(s).")
        else:
            self.stdout.write(f"Nothing to send: {what} has already gone to {audience} (or nobody subscribes).")
