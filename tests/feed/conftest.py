"""The report tests' real-service fixtures, shared: an SMTP server (the worker needs one) and the
worker harness's log directory and broker switch."""

from tests.reports.conftest import real_broker, smtp_server, worker_log_dir  # noqa: F401
