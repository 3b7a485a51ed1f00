"""The portal's code uses no private name (a leading underscore) of another package: such names change
without notice on an upgrade (smtplib's ``_fix_eols``, crontab's ``_orig_minute`` once did here).
Names a package documents as public despite the underscore are listed with where it says so; a use
that has to stay needs a guard test of its own and a line here."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("config", "coalition", "meetings", "contributions", "reports", "demo")
#: Leading-underscore names their package documents as public API.
DOCUMENTED = {
    "_meta": "Django: the Model _meta API",
    "_default_manager": "Django: Model._default_manager",
    "_base_manager": "Django: Model._base_manager",
    "_history_user": "django-simple-history: set on an instance to record who made the change",
    "_change_reason": "django-simple-history: set on an instance to record why",
}


def _private(name):
    """A leading-underscore name that is neither a dunder nor documented as public."""
    return name.startswith("_") and not name.startswith("__") and name not in DOCUMENTED


def _outside(module):
    """True for a module of another package (not one of the portal's)."""
    return module is not None and module.split(".")[0] not in PROJECT


def private_uses(tree):
    """``(line, text)`` of each private name of another package the module uses: imported, read from
    an imported name, or read from ``self`` in a class with an imported base without being defined
    in the module."""
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names if _outside(a.name)}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _outside(node.module):
            imported |= {a.asname or a.name for a in node.names}
    defined = {
        node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    defined.add(item.name)
                elif isinstance(item, ast.Assign | ast.AnnAssign):
                    targets = item.targets if isinstance(item, ast.Assign) else [item.target]
                    defined |= {t.id for t in targets if isinstance(t, ast.Name)}

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _outside(node.module):
            found += [(node.lineno, f"from {node.module} import {a.name}") for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name):
            if node.value.id in imported:
                found.append((node.lineno, f"{node.value.id}.{node.attr}"))
        elif isinstance(node, ast.ClassDef) and any(_base_name(base) in imported for base in node.bases):
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Attribute)
                    and isinstance(inner.ctx, ast.Load)
                    and isinstance(inner.value, ast.Name)
                    and inner.value.id == "self"
                    and _private(inner.attr)
                    and inner.attr not in defined
                ):
                    found.append((inner.lineno, f"self.{inner.attr} (from a base of {node.name})"))
    return found


def _base_name(base):
    """The name a base class is reached by (``smtplib`` for ``smtplib.SMTP``)."""
    while isinstance(base, ast.Attribute):
        base = base.value
    return base.id if isinstance(base, ast.Name) else None


def modules():
    """Every Python module of the portal, migrations left out."""
    return sorted(
        path for package in PROJECT for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts
    )


@pytest.mark.parametrize("path", modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_private_name_of_another_package_is_used(path):
    uses = private_uses(ast.parse(path.read_text(), filename=str(path)))

    assert not uses, f"{path.relative_to(ROOT)}: " + "; ".join(f"line {line}: {text}" for line, text in uses)


@pytest.mark.parametrize(
    "source",
    [
        "import smtplib\nsmtplib._fix_eols('x')\n",
        "from smtplib import _quote_periods\n",
        "from celery.schedules import crontab\nclass Z(crontab):\n    def f(self):\n        return self._orig_hour\n",
    ],
)
def test_the_check_finds_the_uses_this_project_once_had(source):
    assert private_uses(ast.parse(source))


def test_the_check_leaves_the_modules_own_private_names_alone():
    source = (
        "import smtplib\nclass C(smtplib.SMTP):\n    _tail = None\n"
        "    def f(self):\n        self._seen = 1\n        return self._tail, self._seen, self._helper()\n"
        "    def _helper(self):\n        return 0\n"
    )
    assert private_uses(ast.parse(source)) == []
