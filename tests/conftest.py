"""Hypothesis profiles for the whole suite.

- `default` (loaded unless told otherwise): 50 examples a property, no deadline, so `make test`
  stays fast.
- `ci`: 2,000 examples a property, for bug hunting:
  `pytest --hypothesis-profile=ci tests/test_properties.py` (or `HYPOTHESIS_PROFILE=ci`).

`ci` is registered only when it is asked for: `tests/test_schema_properties.py` applies the `ci`
profile whenever one is registered, which would make every default run take minutes.
Tests that make HTTP calls cap their own example counts (see `tests/test_properties.py`).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile("default", max_examples=50, deadline=None, suppress_health_check=_SLOW_OK)


def _register_ci() -> None:
    settings.register_profile(
        "ci",
        max_examples=2000,
        deadline=None,
        suppress_health_check=[*_SLOW_OK, HealthCheck.filter_too_much],
        print_blob=True,
    )


if os.environ.get("HYPOTHESIS_PROFILE") == "ci":
    _register_ci()
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register `ci` before hypothesis's own plugin loads the `--hypothesis-profile` it names."""
    try:
        wanted = config.getoption("hypothesis_profile")
    except ValueError:
        return
    if wanted == "ci":
        _register_ci()
