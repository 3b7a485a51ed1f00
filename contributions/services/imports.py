"""Pledge imports from CSV or XLSX: parse and check every row for a preview, then write them all in
one transaction or none.

New rows go through ``new_pledge`` (every rule of pledge_create) with the coalition's members and the
exchange rates read once, then are inserted in bulk with their history rows; rows whose
``external_ref`` the coalition already has update that pledge through pledge_update (and
pledge_transition when the status moves), or are skipped when nothing changed. The preview runs the
same steps and rolls back, so what it reports is what the confirmation will meet.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from coalition import changes, outbox, permissions
from coalition.errors import CONNECTION_ERRORS
from coalition.models import Member, Membership
from contributions import aggregates
from contributions.models import Pledge, PledgeImport
from contributions.rates import RateCache
from contributions.services.pledges import (
    MANUAL_TRANSITIONS,
    new_pledge,
    pledge_transition,
    pledge_update,
)
from contributions.signals import pledges_imported
from contributions.spreadsheets import (
    CHOICE_COLUMNS,
    COLUMNS,
    MAX_ROWS,
    choice_table,
    header_errors,
    parse_row,
    problem,
    read_table,
)

S = Pledge.Status
#: Fields an import may change on an existing pledge (the others identify it or move by transitions).
UPDATABLE = (
    "title",
    "amount",
    "currency",
    "announced_on",
    "confirmed_on",
    "kind",
    "channel",
    "description",
    "source",
)
BATCH = 500
#: Free-text fields whose limits (length) only the model's own validation checks; new_pledge and the
#: cell parsers have checked every other field, and ForeignKey validation would query per row.
FREE_TEXT = {"title", "description", "source", "external_ref", "exchange_rate_source"}
NOT_FREE_TEXT = [f.name for f in Pledge._meta.concrete_fields if f.name not in FREE_TEXT]


def progress_key(pledge_import_id):
    """Cache key of an import's progress while it runs (its transaction hides the row's own counter)."""
    return f"pledge-import:{pledge_import_id}:processed"


@dataclass
class Plan:
    """What one row will do: create a pledge, update one, or nothing."""

    row: int
    action: str
    pledge: Pledge | None = None
    changes: dict = field(default_factory=dict)
    to_status: str | None = None


# --- Planning: what each row will do -------------------------------------------------------------


#: Where to point a service's error about a field the file has no column for.
FALLBACK_COLUMNS = {"exchange_rate": "currency", "exchange_rate_source": "currency", "confirmed_on": "status"}


def _service_errors(row, exc, default_column, columns=COLUMNS):
    """A service's ValidationError or PermissionDenied as (row, column, message) entries, on the
    file's own ``columns`` where the field has one."""
    if isinstance(exc, PermissionDenied):
        return [problem(row, "member", str(exc))]
    if hasattr(exc, "error_dict"):
        found = []
        for name, errors in exc.error_dict.items():
            column = name if name in columns else FALLBACK_COLUMNS.get(name, default_column)
            for error in errors:
                found.extend(problem(row, column, message) for message in error.messages)
        return found
    return [problem(row, default_column, message) for message in exc.messages]


class _Context:
    """What every row is checked against, read once: members, memberships, existing pledges, rates."""

    def __init__(self, coalition, rows):
        self.coalition = coalition
        self.columns = set().union(*(r["cells"] for r in rows)) if rows else set()
        codes = {r["values"].get("member") for r in rows if r["values"].get("member")}
        refs = {r["values"].get("external_ref") for r in rows if r["values"].get("external_ref")}
        self.members = {m.code: m for m in Member.objects.filter(code__in=codes)}
        self.member_ids = set(Membership.objects.filter(coalition=coalition).values_list("member_id", flat=True))
        self.existing = {
            p.external_ref: p
            for p in Pledge.objects.filter(coalition=coalition, external_ref__in=refs).select_related("member")
        }
        currencies = {r["values"].get("currency") for r in rows if r["values"].get("currency")}
        currencies |= {p.currency for p in self.existing.values()}
        dates = [r["values"]["announced_on"] for r in rows if r["values"].get("announced_on")]
        dates += [p.announced_on for p in self.existing.values()]
        today = timezone.localdate()
        self.rates = RateCache(currencies, min(dates, default=today), max(dates, default=today))


def _member_problems(values, row, context):
    code = values.get("member")
    if not code:
        return []
    member = context.members.get(code)
    if member is None:
        return [problem(row, "member", _("Unknown member code %(code)s.") % {"code": code})]
    if member.pk not in context.member_ids:
        message = _("%(member)s is not a member of %(coalition)s.") % {"member": member, "coalition": context.coalition}
        return [problem(row, "member", message)]
    return []


def _plan_create(values, row, coalition, acting_user, context):
    member = context.members.get(values["member"])
    if member is None:
        return None, [problem(row, "member", _("Unknown member code %(code)s.") % {"code": values["member"]})]
    try:
        pledge = new_pledge(
            acting_user=acting_user,
            coalition=coalition,
            member=member,
            title=values["title"],
            amount=values["amount"],
            currency=values["currency"],
            announced_on=values["announced_on"],
            status=values.get("status", S.DRAFT),
            description=values.get("description", ""),
            kind=values.get("kind", Pledge.Kind.FINANCIAL),
            channel=values.get("channel", Pledge.Channel.BILATERAL),
            confirmed_on=values.get("confirmed_on"),
            confirmed_at_meeting=None,
            source=values.get("source", ""),
            external_ref=values.get("external_ref", ""),
            exchange_rate=values.get("exchange_rate"),
            exchange_rate_source=values.get("exchange_rate_source", ""),
            member_ids=context.member_ids,
            rate_lookup=context.rates,
        )
        pledge.clean_fields(exclude=NOT_FREE_TEXT)
    except (ValidationError, PermissionDenied) as exc:
        return None, _service_errors(row, exc, "title", context.columns)
    return Plan(row=row, action="create", pledge=pledge), []


def _plan_update(values, row, pledge, acting_user):
    if values["member"] != pledge.member.code:
        return None, [
            problem(
                row,
                "member",
                _("External reference %(ref)s is pledge #%(id)s of %(member)s, not of %(code)s.")
                % {"ref": pledge.external_ref, "id": pledge.pk, "member": pledge.member.code, "code": values["member"]},
            )
        ]
    if not permissions.can_edit(acting_user, pledge):
        return None, [problem(row, "member", _("You may only change pledges of your own member."))]
    changes = {name: values[name] for name in UPDATABLE if name in values and getattr(pledge, name) != values[name]}
    if "exchange_rate" in values and values["exchange_rate"] != pledge.exchange_rate:
        changes["exchange_rate"] = values["exchange_rate"]
        changes["exchange_rate_source"] = values.get("exchange_rate_source", "")
    to_status = values.get("status")
    if to_status == pledge.status:
        to_status = None
    if to_status is not None and to_status not in MANUAL_TRANSITIONS.get(pledge.status, set()):
        return None, [
            problem(
                row,
                "status",
                _("Pledge #%(id)s is %(current)s; an import cannot make it %(status)s.")
                % {"id": pledge.pk, "current": pledge.status, "status": to_status},
            )
        ]
    if not changes and to_status is None:
        return Plan(row=row, action="unchanged", pledge=pledge), []
    if pledge.status == S.WITHDRAWN:
        return None, [
            problem(row, "external_ref", _("Pledge #%(id)s is withdrawn and cannot change.") % {"id": pledge.pk})
        ]
    return Plan(row=row, action="update", pledge=pledge, changes=changes, to_status=to_status), []


def _plan(rows, coalition, acting_user):
    """Every row's Plan and every problem found, reading the database a fixed number of times."""
    errors = []
    choice_tables = {column: choice_table(choices) for column, choices in CHOICE_COLUMNS.items()}
    for row in rows:
        row["values"] = parse_row(row["cells"], errors, row["row"], choice_tables)
    context = _Context(coalition, rows)
    failed_rows = {e["row"] for e in errors}
    plans, refs_seen = [], {}
    for row in rows:
        number, values = row["row"], row["values"]
        ref = values.get("external_ref")
        if ref:
            if ref in refs_seen:
                errors.append(
                    problem(
                        number,
                        "external_ref",
                        _("External reference %(ref)s is also on row %(row)s.") % {"ref": ref, "row": refs_seen[ref]},
                    )
                )
                continue
            refs_seen[ref] = number
        if number in failed_rows:
            # A cell could not be read, so the row is not planned; what can still be said of its
            # member is said now, so the row's problems come in one round.
            errors.extend(_member_problems(values, number, context))
            continue
        if ref and ref in context.existing:
            plan, row_errors = _plan_update(values, number, context.existing[ref], acting_user)
        else:
            plan, row_errors = _plan_create(values, number, coalition, acting_user, context)
        errors.extend(row_errors)
        if plan is not None:
            plans.append(plan)
    return plans, errors


# --- Running: dry run for the preview, the real thing on confirmation ----------------------------


def _on_imported(pledge_import, acting_user, confirmed_ids):
    pledges_imported.send(
        sender=PledgeImport,
        pledge_import_id=pledge_import.pk,
        acting_user_id=getattr(acting_user, "pk", None),
        confirmed_ids=confirmed_ids,
    )


def _execute(pledge_import, acting_user, *, dry_run, progress=None):
    """Plan and write the import's rows inside one transaction; rolled back on a dry run or when any
    row fails. Returns (counts, errors)."""
    rows = [dict(row) for row in pledge_import.rows]
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        plans, errors = _plan(rows, pledge_import.coalition, acting_user)
        done = 0
        for plan in plans:
            if plan.action != "update":
                continue
            try:
                with transaction.atomic():
                    pledge = plan.pledge
                    if plan.changes:
                        pledge = pledge_update(
                            acting_user=acting_user, pledge=pledge, version=pledge.version, **plan.changes
                        )
                    if plan.to_status:
                        pledge_transition(
                            acting_user=acting_user,
                            pledge=pledge,
                            to_status=plan.to_status,
                            version=pledge.version,
                            on_date=plan.changes.get("confirmed_on", pledge.confirmed_on)
                            if plan.to_status == S.CONFIRMED
                            else None,
                        )
            except (ValidationError, PermissionDenied) as exc:
                errors.extend(_service_errors(plan.row, exc, "title", pledge_import.columns))
            counts["updated"] += 1
            done += 1
            if progress and done % BATCH == 0:
                progress(done)
        creates = [plan.pledge for plan in plans if plan.action == "create"]
        counts["created"] = len(creates)
        counts["unchanged"] = sum(1 for plan in plans if plan.action == "unchanged")
        if not dry_run and not errors:
            for start in range(0, len(creates), BATCH):
                batch = creates[start : start + BATCH]
                bulk_create_with_history(batch, Pledge, batch_size=BATCH, default_user=acting_user)
                changes.record_created(batch)
                aggregates.pledges_created(pledge.pk for pledge in batch)
                done += len(batch)
                if progress:
                    progress(done)
            _on_imported(pledge_import, acting_user, [p.pk for p in creates if p.status == S.CONFIRMED])
        if dry_run or errors:
            transaction.set_rollback(True)
    actions = {plan.row: plan.action for plan in plans}
    for row in pledge_import.rows:
        row["action"] = actions.get(row["row"], "error")
    errors.sort(key=lambda e: (e["row"], COLUMNS.index(e["column"]) if e["column"] in COLUMNS else len(COLUMNS)))
    return counts, errors


def pledge_import_parse(file, coalition, acting_user):
    """Read an uploaded CSV or XLSX of pledges for ``coalition`` and check every row without writing
    anything: the PledgeImport returned holds the rows, what each would do, and every error (row,
    column, message). File-level problems (unreadable, empty, too large) raise ValidationError."""
    permissions.ensure(
        permissions.can_record_pledges_in(acting_user, coalition),
        _("You may not record pledges in this coalition."),
    )
    header, rows = read_table(file)
    if len(rows) > MAX_ROWS:
        raise ValidationError(
            {
                "file": _("The file has %(count)s rows; import at most %(max)s at a time.")
                % {"count": len(rows), "max": MAX_ROWS}
            }
        )
    pledge_import = PledgeImport(
        coalition=coalition,
        created_by=acting_user if acting_user and acting_user.is_authenticated else None,
        filename=(getattr(file, "name", "") or "upload")[:255],
        columns=header,
        rows=rows,
        total_rows=len(rows),
    )
    errors = header_errors(header)
    if not errors:
        counts, errors = _execute(pledge_import, acting_user, dry_run=True)
        pledge_import.created_count = counts["created"]
        pledge_import.updated_count = counts["updated"]
        pledge_import.unchanged_count = counts["unchanged"]
    pledge_import.errors = errors
    pledge_import.save()
    return pledge_import


def pledge_import_confirm(*, pledge_import, acting_user):
    """Queue a previewed, error-free import: an outbox row of this transaction for the Celery task (run
    in-process without a broker)."""
    _ensure_own_import(pledge_import, acting_user)
    with transaction.atomic():
        locked = PledgeImport.objects.select_for_update().get(pk=pledge_import.pk)
        if locked.status != PledgeImport.Status.PREVIEW:
            raise ValidationError(_("This import has already been confirmed."))
        if locked.errors:
            raise ValidationError(_("Correct the file and upload it again: an import with errors cannot be confirmed."))
        locked.status = PledgeImport.Status.QUEUED
        locked.save(update_fields=["status"])
        outbox.enqueue("contributions.pledge_import", pledge_import_id=locked.pk)
    return locked


def pledge_import_apply(*, pledge_import_id):
    """Write a queued import: every row in one transaction, or none (the errors are stored then).
    Safe to run twice (a redelivered task): the import's row lock and status let one run write."""
    updated = PledgeImport.objects.filter(
        pk=pledge_import_id, status__in=[PledgeImport.Status.QUEUED, PledgeImport.Status.RUNNING]
    ).update(status=PledgeImport.Status.RUNNING, started_at=timezone.now())
    if not updated:
        return PledgeImport.objects.get(pk=pledge_import_id)
    key = progress_key(pledge_import_id)
    try:
        return _apply_locked(pledge_import_id, key)
    except IntegrityError:
        # Another writer took an external reference between the plan and the insert: nothing was
        # written (the transaction rolled back); the person uploads again and sees it as an update.
        PledgeImport.objects.filter(pk=pledge_import_id).update(
            status=PledgeImport.Status.FAILED,
            errors=[problem(0, "external_ref", _("Someone saved a pledge with one of these references meanwhile."))],
            finished_at=timezone.now(),
        )
        return PledgeImport.objects.get(pk=pledge_import_id)
    except CONNECTION_ERRORS:
        # The database went away mid-run: nothing was written (one transaction), and the import stays
        # running for the task to start it again (or the sweep to fail it, if it never can).
        raise
    except Exception:
        # Nothing was written (one transaction); say so rather than leave the page "running" forever.
        PledgeImport.objects.filter(pk=pledge_import_id).update(
            status=PledgeImport.Status.FAILED,
            errors=[problem(0, "", _("The import stopped on an unexpected error; nothing was saved. Try again."))],
            finished_at=timezone.now(),
        )
        raise
    finally:
        cache.delete(key)


def _apply_locked(pledge_import_id, key):
    with transaction.atomic():
        pledge_import = (
            PledgeImport.objects.select_for_update(of=("self",))
            .select_related("coalition", "created_by")
            .get(pk=pledge_import_id)
        )
        if pledge_import.status != PledgeImport.Status.RUNNING:
            return pledge_import
        if pledge_import.created_by is None:
            # The uploader's account is gone: never fall back to running as the system.
            pledge_import.status = PledgeImport.Status.FAILED
            pledge_import.errors = [problem(0, "", _("The account that uploaded this file no longer exists."))]
            pledge_import.finished_at = timezone.now()
            pledge_import.save(update_fields=["status", "errors", "finished_at"])
            return pledge_import
        counts, errors = _execute(
            pledge_import,
            pledge_import.created_by,
            dry_run=False,
            progress=lambda done: cache.set(key, done, timeout=3600),
        )
        pledge_import.errors = errors
        pledge_import.status = PledgeImport.Status.FAILED if errors else PledgeImport.Status.DONE
        pledge_import.created_count = 0 if errors else counts["created"]
        pledge_import.updated_count = 0 if errors else counts["updated"]
        pledge_import.unchanged_count = counts["unchanged"]
        pledge_import.processed_rows = 0 if errors else pledge_import.total_rows
        pledge_import.finished_at = timezone.now()
        pledge_import.save()
    return pledge_import


def pledge_imports_interrupted(*, older_than, now=None):
    """Fail the imports that started running ``older_than`` seconds ago and never ended: nothing of
    theirs was written (one transaction). Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=older_than)
    stale = PledgeImport.objects.filter(status=PledgeImport.Status.RUNNING, started_at__lt=cutoff)
    return stale.update(
        status=PledgeImport.Status.FAILED,
        errors=[
            problem(
                0,
                "",
                _(
                    "The import was interrupted (its worker or the database stopped) and nothing was saved. "
                    "Upload the file again."
                ),
            )
        ],
        finished_at=now or timezone.now(),
    )


def pledge_import_progress(pledge_import):
    """Rows written so far by a running import (its counter is only committed at the end)."""
    if pledge_import.status == PledgeImport.Status.RUNNING:
        return cache.get(progress_key(pledge_import.pk), 0)
    return pledge_import.processed_rows


def _ensure_own_import(pledge_import, acting_user):
    allowed = acting_user is None or (
        pledge_import.created_by_id == getattr(acting_user, "pk", None)
        and permissions.can_record_pledges_in(acting_user, pledge_import.coalition_id)
    )
    permissions.ensure(allowed, _("Only the person who uploaded this file may confirm it."))
