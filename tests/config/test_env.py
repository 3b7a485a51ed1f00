"""EMAIL_URL values Django would accept at start and fail on at the first email are refused by
config.env at start, with a message naming EMAIL_URL."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import parse_email_url
from tests.coalition.test_settings import run_django


@pytest.mark.parametrize("timeout", ["abc", "1.5", "10s"])
def test_a_timeout_that_is_not_a_whole_number_is_refused_naming_email_url(timeout):
    with pytest.raises(ImproperlyConfigured, match=rf"EMAIL_URL has timeout='{timeout}': it must be a whole number"):
        parse_email_url(f"smtp://mail.example.org?timeout={timeout}&tls=1")


@pytest.mark.parametrize("timeout", ["0", "-5"])
def test_a_timeout_below_one_second_is_refused(timeout):
    with pytest.raises(ImproperlyConfigured, match=r"EMAIL_URL has timeout=-?\d+: it must be at least 1 second"):
        parse_email_url(f"smtp://mail.example.org?timeout={timeout}")


def test_a_timeout_with_spaces_is_read():
    assert parse_email_url("smtp://mail.example.org?timeout=%2030%20")["EMAIL_TIMEOUT"] == 30


@pytest.mark.parametrize(
    "url",
    [
        "smtps://mail.example.org?tls=1",
        "submission://mail.example.org?ssl=1",
        "smtp://mail.example.org?ssl=1&tls=1",
    ],
)
def test_ssl_and_starttls_together_are_refused(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL asks for both SSL and STARTTLS"):
        parse_email_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("smtp://mail.example.org?timeout=abc", "EMAIL_URL has timeout='abc'"),
        ("smtps://mail.example.org?tls=1", "EMAIL_URL asks for both SSL and STARTTLS"),
    ],
)
def test_the_process_refuses_to_start_with_such_an_email_url(url, message):
    result = run_django("import django; django.setup()", EMAIL_URL=url)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    assert "ValueError" not in result.stderr
