"""Fault plans: make the emulator fail the way the real service does, on purpose.

A plan is an ordered list of rules. Each rule names an endpoint, a fault and when it fires: for
the first N calls (`xN`) or for a seeded random fraction of calls (`@P`). Rules are tried in order
for every call; an error rule that fires ends the attempt, so `create:429x2,create:lostx1` answers
429, 429, then loses the third create's response, then behaves.

Spec syntax (command line `--faults`, or `Faults.parse`)::

    SPEC  := RULE ("," RULE)*
    RULE  := ENDPOINT ":" KIND [ "x" N | "@" P ] [ "~" ARG ]
    ENDPOINT := create | retrieve | list | results | cancel | delete
              | messages | count_tokens | models | *
    KIND  := 429 | 500 | 529 | cut | lost | slow | error

`x1` is the default. `~ARG`: seconds of `retry-after` for 429 (default 1) and 500/529 (default
none); seconds of delay for `slow` (default 1); the fraction of the body sent before `cut`
(default 0.5); for `error`, the fraction of a stream's events sent before an `error` event
(`overloaded_error`, default 0.5) ends it; a non-streamed call answers that error as a 529.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, cast, get_args

Endpoint = Literal[
    "create", "retrieve", "list", "results", "cancel", "delete", "messages", "count_tokens", "models"
]
ENDPOINTS: Final[tuple[Endpoint, ...]] = get_args(Endpoint)
FaultKind = Literal["429", "500", "529", "cut", "lost", "slow", "error"]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)

_RULE: Final = re.compile(
    r"^\s*(?P<endpoint>[a-z_]+|\*)\s*:\s*(?P<kind>429|500|529|cut|lost|slow|error)\s*"
    r"(?:x\s*(?P<count>\d+)|@\s*(?P<rate>\d*\.?\d+))?\s*(?:~\s*(?P<arg>\d*\.?\d+))?\s*$"
)


@dataclass
class FaultRule:
    """One rule of a plan; `count` (first N calls) or `rate` (fraction of calls) says when."""

    endpoint: Endpoint | Literal["*"]
    kind: FaultKind
    count: int | None = 1
    rate: float | None = None
    arg: float | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        if self.endpoint != "*" and self.endpoint not in ENDPOINTS:
            raise ValueError(
                f"unknown endpoint {self.endpoint!r}; expected one of {', '.join(ENDPOINTS)} or *"
            )
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if self.rate is not None:
            if not 0.0 <= self.rate <= 1.0:
                raise ValueError(f"fault rate must be within [0, 1], not {self.rate}")
            self.count = None
        if self.kind in ("cut", "error") and self.arg is not None and not 0.0 <= self.arg < 1.0:
            raise ValueError(f"the {self.kind} fraction must be within [0, 1)")

    def matches(self, endpoint: Endpoint) -> bool:
        return self.endpoint in ("*", endpoint)

    @property
    def spent(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def spec(self) -> str:
        """This rule in spec syntax."""
        when = f"@{self.rate:g}" if self.rate is not None else f"x{self.count}"
        arg = f"~{self.arg:g}" if self.arg is not None else ""
        return f"{self.endpoint}:{self.kind}{when}{arg}"


@dataclass(frozen=True)
class Decision:
    """What to do with one call: optional delay, an error status, or a post-response fault."""

    delay: float = 0.0
    status: int | None = None  # 429 / 500 / 529 answered instead of handling the call
    retry_after: float | None = None
    lost: bool = False  # handle the call, then drop the connection without a response
    cut: float | None = None  # handle the call, send only this fraction of the body
    error: float | None = None  # handle the call, break its stream with an error event here


class Faults:
    """A thread-safe fault plan. Change it at runtime with `add`, `clear` or `replace`."""

    def __init__(self, rules: Iterable[FaultRule] = (), *, seed: int = 0) -> None:
        self._rules = list(rules)
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()
        self.fired: Counter[str] = Counter()  # "endpoint:kind" -> times fired

    @classmethod
    def parse(cls, spec: str, *, seed: int = 0) -> Faults:
        """Build a plan from spec syntax (see the module docstring); raises ValueError with the bad rule."""
        return cls(parse_rules(spec), seed=seed)

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def add(self, *rules: FaultRule | str) -> None:
        """Append rules (objects or spec strings)."""
        parsed = [r for rule in rules for r in (parse_rules(rule) if isinstance(rule, str) else [rule])]
        with self._lock:
            self._rules.extend(parsed)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def replace(self, spec: str | Iterable[FaultRule]) -> None:
        rules = parse_rules(spec) if isinstance(spec, str) else list(spec)
        with self._lock:
            self._rules = rules

    def decide(self, endpoint: Endpoint) -> Decision:
        """Consume the rules that fire for this call and say what to do."""
        delay = 0.0
        with self._lock:
            for rule in self._rules:
                if not rule.matches(endpoint) or rule.spent:
                    continue
                if rule.rate is not None and self._rng.random() >= rule.rate:
                    continue
                rule.fired += 1
                self.fired[f"{endpoint}:{rule.kind}"] += 1
                if rule.kind == "slow":
                    delay += rule.arg if rule.arg is not None else 1.0
                    continue
                if rule.kind == "lost":
                    return Decision(delay=delay, lost=True)
                if rule.kind == "error":
                    return Decision(delay=delay, error=rule.arg if rule.arg is not None else 0.5)
                if rule.kind == "cut":
                    return Decision(delay=delay, cut=rule.arg if rule.arg is not None else 0.5)
                retry_after = rule.arg if rule.arg is not None else (1.0 if rule.kind == "429" else None)
                return Decision(delay=delay, status=int(rule.kind), retry_after=retry_after)
        return Decision(delay=delay)


def parse_rules(spec: str) -> list[FaultRule]:
    """Parse spec syntax into rules; an empty spec is an empty plan."""
    rules = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = _RULE.match(part)
        if match is None:
            raise ValueError(
                f"bad fault rule {part!r}: expected ENDPOINT:KIND[xN|@P][~ARG], e.g. create:429x2~0.1"
            )
        rules.append(
            FaultRule(
                endpoint=cast("Endpoint", match["endpoint"]),
                kind=cast(FaultKind, match["kind"]),
                count=int(match["count"]) if match["count"] else 1,
                rate=float(match["rate"]) if match["rate"] else None,
                arg=float(match["arg"]) if match["arg"] else None,
            )
        )
    return rules
