"""structbatch: structured-output extraction with Claude's Message Batches API.

The whole public surface is re-exported here; everything else lives in private modules.
"""

from __future__ import annotations

from ._errors import (
    DuplicateKeyError,
    InputError,
    JobError,
    KeyMismatchError,
    ModeError,
    PreflightError,
    SchemaError,
    StoreError,
    StructbatchError,
)
from ._outcome import Failure, FailureKind, Outcome, Usage

__version__ = "0.1.0"

__all__ = [
    "DuplicateKeyError",
    "Failure",
    "FailureKind",
    "InputError",
    "JobError",
    "KeyMismatchError",
    "ModeError",
    "Outcome",
    "PreflightError",
    "SchemaError",
    "StoreError",
    "StructbatchError",
    "Usage",
    "__version__",
]
