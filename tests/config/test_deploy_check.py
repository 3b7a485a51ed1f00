"""``manage.py check --deploy`` with the production environment the README documents: no warning.
And the headers each page carries: a strict Content-Security-Policy, HSTS and the https redirect
when SITE_URL is https, the forwarded proto believed only when BEHIND_PROXY says a proxy sets it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def readme_production_environment():
    """The variables of the README's production block (``export NAME=value`` lines)."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- production-environment -->\n```sh\n(.*?)```", text, re.S)
    assert block, "README.md has no production environment block"
    env = {}
    for line in block.group(1).splitlines():
        match = re.match(r"export (\w+)=(\S+)", line.strip())
        if match:
            env[match.group(1)] = match.group(2).strip("'\"")
    return env


def run_manage(*args, env):
    base = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_has_no_warning_with_the_documented_production_environment():
    env = readme_production_environment()
    assert env["DEBUG"] == "0" and env["SITE_URL"].startswith("https://")
    # The README shows a placeholder secret; the check is about the settings, so a real-looking one.
    env["SECRET_KEY"] = "k" * 10 + "-Qx7Zr2Lm9Pw4Tn8Vb3Hc6Yd1Fs5Gj0Ka-Re8Uo2Ip6Ny4Me1Ww7"
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_without_https_settings_check_deploy_warns_as_before():
    env = {**readme_production_environment(), "SITE_URL": "http://portal.example.org", "SECRET_KEY": "x" * 60}
    result = run_manage("check", "--deploy", env=env)
    assert "security.W004" in result.stderr + result.stdout


@pytest.mark.django_db
def test_every_page_has_a_strict_content_security_policy(client, secretariat):
    client.force_login(secretariat)
    for url in ("/", "/pledges/", "/accounts/login/", "/api/docs/", "/admin/login/"):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-inline'" not in directives["style-src"]
        assert directives["default-src"] == "'self'" and directives["frame-ancestors"] == "'none'"


@pytest.mark.django_db
def test_the_docs_page_has_no_inline_script_and_a_nonce_on_its_style(client):
    page = client.get("/api/docs/")
    html = page.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">' in html
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))


def test_the_forwarded_proto_is_believed_only_behind_a_configured_proxy():
    probe = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    env = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "DJANGO_SETTINGS_MODULE": "config.settings"}
    plain = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        cwd=ROOT,
        env={**env, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
    )
    proxied = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        cwd=ROOT,
        env={**env, "PATH": os.environ["PATH"], "BEHIND_PROXY": "1"},
        capture_output=True,
        text=True,
    )
    assert plain.stdout.strip() == "None", plain.stderr
    assert proxied.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')", proxied.stderr
