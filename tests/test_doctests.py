"""The examples in the package's docstrings run as tests: the suite collects tests/ only, so without this
the doctests of qa/*.py (cite.py's rules above all) would be read by nobody but their writer."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import qa

MODULES = sorted(m.name for m in pkgutil.iter_modules(qa.__path__, "qa.") if m.name != "qa.__main__")  # runs the CLI


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
