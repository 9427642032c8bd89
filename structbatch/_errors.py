"""Every exception structbatch raises, in one place.

Failures of individual requests are never exceptions: they are `Outcome`s with a `Failure`
(see `_outcome`). Exceptions are for mistakes a caller must fix before anything can run.
"""

from __future__ import annotations


class StructbatchError(Exception):
    """Base class of every error structbatch raises."""


# Compile-time errors ------------------------------------------------------------------------


class SchemaError(StructbatchError):
    """A model or JSON Schema cannot be compiled into a tool the API accepts (names the field)."""


class ModeError(StructbatchError):
    """A mode was requested that the model or the request does not allow (names the alternative)."""


# Input errors ---------------------------------------------------------------------------------


class InputError(StructbatchError):
    """An input row, key or job file is wrong (names the file, line, key and problem)."""


class DuplicateKeyError(InputError):
    """The same key was added to a job twice."""


# Job and store errors -------------------------------------------------------------------------


class StoreError(StructbatchError):
    """The job store cannot be used: newer schema version, a different spec, or corruption."""


class ConfigChangeError(StoreError):
    """A job's request settings differ from its store's after a batch was submitted.

    `setting` names the setting (`model`, `mode`, `max_tokens`, `system`, `params`, `spec`);
    `stored` and `given` are its two values, so a command line can name its own flag.
    """

    def __init__(self, message: str, *, setting: str, stored: object, given: object) -> None:
        super().__init__(message)
        self.setting = setting
        self.stored = stored
        self.given = given


class KeyMismatchError(StructbatchError):
    """A batch was created with a different API key (names both last-four suffixes)."""


class PreflightError(StructbatchError):
    """The API rejected a request shape during preflight; nothing was submitted."""


class JobError(StructbatchError):
    """A job cannot proceed (for example, the API refused to create a batch for a final reason)."""


class JobBusyError(JobError):
    """Another live process holds the job's driver lease (names its pid, host and since when)."""
