"""The front door: ``from kpitools import audit_provider, Rules`` works, each public name
is the object its home module defines, and ``import kpitools`` alone loads none of them
(the pack's kernel imports the package on every run)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import kpitools

# where each public name is defined: where people look for it (step 1 of the pipeline,
# the rules, the engine, the audit, what a pack presents)
HOMES = {
    "load_provider": "kpitools.load",
    "Rules": "kpitools.rules",
    "audit_provider": "kpitools.audit",
    "audit_period": "kpitools.audit",
    "ProviderAudit": "kpitools.model",
    "ProviderReturn": "kpitools.model",
    "load_context": "kpitools.present.context",
}


def test_all_lists_every_public_name() -> None:
    assert sorted(kpitools.__all__) == sorted(["__version__", *HOMES])
    assert set(HOMES) <= set(dir(kpitools))


@pytest.mark.parametrize("name", sorted(HOMES))
def test_each_name_is_its_home_modules_object(name: str) -> None:
    value = getattr(kpitools, name)
    assert value.__module__ == HOMES[name]
    assert value is getattr(importlib.import_module(HOMES[name]), name)


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        kpitools.no_such_name  # noqa: B018


def test_import_kpitools_is_light() -> None:
    probe = "import json, sys, kpitools\nprint(json.dumps(sorted(sys.modules)))"
    loaded = set(
        json.loads(
            subprocess.run(
                [sys.executable, "-c", probe], check=True, capture_output=True, text=True
            ).stdout
        )
    )
    assert {"pandas", "kpitools.audit", "kpitools.rules"} & loaded == set()


def test_notebook_import_line() -> None:
    code = "from kpitools import Rules, audit_provider\nprint(audit_provider.__module__, Rules().dropout_limit)"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.split()[0] == "kpitools.audit"
