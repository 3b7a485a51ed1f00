"""Every write to pledges, disbursements, priorities and allocations (views, API, admin, imports,
commands and tasks all call these, so each rule is written once)."""

from contributions.services.allocations import allocation_delete, allocation_set
from contributions.services.disbursements import disbursement_delete, disbursement_record, disbursement_update
from contributions.services.exports import pledge_export_request, pledge_export_run
from contributions.services.imports import (
    pledge_import_apply,
    pledge_import_confirm,
    pledge_import_parse,
    pledge_import_progress,
)
from contributions.services.pledges import (
    pledge_announce,
    pledge_confirm,
    pledge_create,
    pledge_delete,
    pledge_transition,
    pledge_update,
    pledge_withdraw,
)
from contributions.services.priorities import (
    decision_link,
    priority_create,
    priority_delete,
    priority_rerank,
    priority_transition,
    priority_update,
)
from contributions.services.rates import exchange_rates_import

__all__ = [
    "allocation_delete",
    "allocation_set",
    "decision_link",
    "disbursement_delete",
    "disbursement_record",
    "disbursement_update",
    "exchange_rates_import",
    "pledge_export_request",
    "pledge_export_run",
    "pledge_announce",
    "pledge_confirm",
    "pledge_create",
    "pledge_delete",
    "pledge_import_apply",
    "pledge_import_confirm",
    "pledge_import_parse",
    "pledge_import_progress",
    "pledge_transition",
    "pledge_update",
    "pledge_withdraw",
    "priority_create",
    "priority_delete",
    "priority_rerank",
    "priority_transition",
    "priority_update",
]
