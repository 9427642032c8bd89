"""A job's settings: one typed value, validated before the store is touched, stored as one value.

`JobConfig` holds everything that shapes a job: the spec's identity (fingerprint, tool, wrap),
the request settings (model, mode, max_tokens, system, extra params) and the engine policy
(attempts, re-asks, batch limits, queue cap, preflight), plus the job's random `salt`, which
makes its custom_ids its own (see `_submit`). `Job` validates a config completely — including
resolving the mode for the model — before it opens or creates a store, so a refused config never
leaves a store behind.

Two kinds of settings, for the rules about changing a stored job:
- `REQUEST_FIELDS` shape the bytes sent; they may change only while nothing was submitted
  (the stored requests are then rebuilt by the caller adding them again).
- The rest (policy) may change at any time.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ._batching import Limits
from ._errors import ConfigChangeError
from ._modes import Mode, resolve_mode
from ._schema import Spec, compile

#: Settings that shape what is sent: changing one after a submission would mix two jobs.
REQUEST_FIELDS = ("spec_fingerprint", "model", "mode", "max_tokens", "system", "params")

_SALT_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
SALT_LENGTH = 8


def new_salt() -> str:
    """A random job salt: 8 characters of [a-z0-9] (about 41 bits)."""
    return "".join(secrets.choice(_SALT_ALPHABET) for _ in range(SALT_LENGTH))


@dataclass(frozen=True)
class JobConfig:
    """Every setting of a job, validated on construction (`ValueError`/`InputError` if wrong)."""

    model: str
    spec_fingerprint: str
    spec_tool: Mapping[str, Any]
    spec_wrap: str | None = None
    mode: Mode = Mode.AUTO
    max_tokens: int = 1024
    system: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    max_attempts: int = 3
    max_reasks: int = 1
    limits: Limits = field(default_factory=Limits)
    max_queued_requests: int = 100_000
    preflight: bool = True
    salt: str = field(default_factory=new_salt)

    def __post_init__(self) -> None:
        object.__setattr__(self, "mode", Mode(self.mode))
        object.__setattr__(self, "params", dict(self.params))
        if not isinstance(self.model, str) or not self.model:
            raise ValueError(f"model must be a model id string, got {self.model!r}")
        if not isinstance(self.max_tokens, int) or isinstance(self.max_tokens, bool) or self.max_tokens < 1:
            raise ValueError(f"max_tokens must be a positive integer, got {self.max_tokens!r}")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.max_reasks < 0:
            raise ValueError("max_reasks must be >= 0")
        if self.max_queued_requests < 1:
            raise ValueError("max_queued_requests must be >= 1")
        if len(self.salt) != SALT_LENGTH or any(c not in _SALT_ALPHABET for c in self.salt):
            raise ValueError(f"salt must be {SALT_LENGTH} characters of [a-z0-9], got {self.salt!r}")

    @classmethod
    def for_spec(cls, spec: Spec[Any], **settings: Any) -> JobConfig:
        """A config for `spec` (its identity is recorded, so a reopened job can rebuild it)."""
        return cls(
            spec_fingerprint=spec.fingerprint,
            spec_tool=spec.tool,
            spec_wrap=spec.wrap,
            **settings,
        )

    def resolved_mode(self, spec: Spec[Any]) -> Mode:
        """The concrete mode new requests use; raises `ModeError` if the model refuses the mode."""
        return resolve_mode(spec, self.model, self.mode, **self.params)

    def rebuild_spec(self) -> Spec[Any]:
        """The spec rebuilt from its stored tool: values come back as dicts."""
        tool = self.spec_tool
        spec: Spec[Any] = compile(
            tool["input_schema"], name=tool["name"], description=tool.get("description"), wrap=None
        )
        if self.spec_wrap:
            spec = Spec(
                name=spec.name,
                description=spec.description,
                schema=spec.schema,
                model=None,
                wrap=self.spec_wrap,
            )
        return spec

    def replace(self, **changes: Any) -> JobConfig:
        return dataclasses.replace(self, **changes)

    def differences(self, other: JobConfig) -> list[str]:
        """Names of the settings (fields) where `other` differs from this config; the salt is
        the job's identity, never a difference."""
        return [
            f.name
            for f in dataclasses.fields(self)
            if f.name not in ("salt", "spec_tool", "spec_wrap")
            and getattr(self, f.name) != getattr(other, f.name)
        ]

    # -- storage -----------------------------------------------------------------------------------

    def to_json(self) -> str:
        return orjson.dumps(
            {
                "model": self.model,
                "spec_fingerprint": self.spec_fingerprint,
                "spec_tool": self.spec_tool,
                "spec_wrap": self.spec_wrap,
                "mode": self.mode.value,
                "max_tokens": self.max_tokens,
                "system": self.system,
                "params": self.params,
                "max_attempts": self.max_attempts,
                "max_reasks": self.max_reasks,
                "limits": {"max_requests": self.limits.max_requests, "max_bytes": self.limits.max_bytes},
                "max_queued_requests": self.max_queued_requests,
                "preflight": self.preflight,
                "salt": self.salt,
            }
        ).decode()

    @classmethod
    def from_json(cls, text: str) -> JobConfig:
        data = orjson.loads(text)
        data["limits"] = Limits(**data["limits"])
        return cls(**data)


def describe(name: str, value: Any) -> str:
    """A setting's value as a user would type it (for messages)."""
    if name == "mode":
        return str(Mode(value).value)
    if name == "limits" and isinstance(value, Limits):
        return f"max_requests={value.max_requests}, max_bytes={value.max_bytes}"
    return repr(value)


def show_setting(config: JobConfig, name: str) -> str:
    """One setting of `config` as a user would type it (the spec by its tool name)."""
    if name == "spec_fingerprint":
        return f"tool {config.spec_tool.get('name')!r}"
    return describe(name, getattr(config, name))


def change_refused(store: object, stored: JobConfig, given: JobConfig, name: str) -> ConfigChangeError:
    """The error for changing setting `name` of a job that has submitted batches (it names the
    setting, so the CLI can name its flag or job-file key)."""
    setting = "spec" if name == "spec_fingerprint" else name
    if setting == "spec":
        old, new = stored.spec_tool.get("name"), given.spec_tool.get("name")
        what = (
            f"a different spec (tool {new!r}, fingerprint {given.spec_fingerprint}; "
            f"the store's is tool {old!r}, {stored.spec_fingerprint})"
        )
    else:
        old, new = getattr(stored, name), getattr(given, name)
        what = f"{setting} {describe(name, new)} (the store's is {describe(name, old)})"
    return ConfigChangeError(
        f"{store}: this job has submitted batches, so it cannot change to {what}. Keep the "
        f"stored {setting} to continue it, or use a new store for the new settings",
        setting=setting,
        stored=old,
        given=new,
    )
