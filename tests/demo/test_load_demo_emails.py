"""The demo's first load sends a report per confirmed pledge and held meeting: with the console
backend (make run's) they go to files, one line on the console says where, and nothing else changes."""

import io

from django.core.management import call_command

from reports.models import Delivery

CONSOLE = "django.core.mail.backends.console.EmailBackend"


def load():
    """load_demo committing for real, as from the shell: its reports are queued at the commit, inside
    the command (pytest runs with DEBUG off, hence the flag)."""
    out = io.StringIO()
    call_command("load_demo", allow_production=True, stdout=out)
    return out.getvalue()


def test_console_emails_go_to_files_and_one_line_says_where(transactional_db, settings, tmp_path, capsys):
    settings.EMAIL_BACKEND, settings.BASE_DIR = CONSOLE, tmp_path

    printed = load() + capsys.readouterr().out

    files = sorted((tmp_path / "demo-emails").iterdir())
    sent = Delivery.objects.filter(status=Delivery.Status.SENT).count()
    assert sent > 0
    assert sum(file.read_text().count("\nSubject: ") for file in files) == sent
    assert (
        f"{sent} report emails (pledge confirmations, meeting summaries) written to {tmp_path}/demo-emails/ instead"
        in printed
    )
    assert "Subject:" in files[0].read_text()
    assert "Subject:" not in printed
    assert settings.EMAIL_BACKEND == CONSOLE


def test_other_backends_get_the_emails_as_configured(transactional_db, settings, tmp_path, mailoutbox):
    settings.BASE_DIR = tmp_path

    printed = load()

    assert len(mailoutbox) == Delivery.objects.filter(status=Delivery.Status.SENT).count() > 0
    assert not (tmp_path / "demo-emails").exists()
    assert "report emails" not in printed
