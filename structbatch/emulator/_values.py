"""Deterministic, schema-valid example values from a JSON Schema.

Responders need "what a model would have answered" for any schema our users compile: an
instance that validates, that is the same every run for the same seed (so failures reproduce),
and that differs between requests (so a mix-up of results between custom_ids is visible).
`$ref`s are resolved inside the schema only (nothing is fetched); recursion is cut off at
`max_depth` by taking the shortest way out (optional properties dropped, empty arrays, the
non-recursive branch of a union).
"""

from __future__ import annotations

import math
import random
import uuid
from typing import Any, Final

from .._jsonschema_walk import merge_all_of, resolve_pointer
from ._constraints import described, pattern_string

_WORDS: Final = (
    "amber",
    "basil",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "iris",
    "juniper",
    "kelp",
    "lumen",
    "maple",
    "nectar",
    "onyx",
    "pepper",
    "quartz",
    "raven",
    "saffron",
    "thyme",
    "umber",
    "violet",
    "willow",
    "xenon",
    "yarrow",
    "zephyr",
)


class ValueMaker:
    """Builds one value for `schema`; `seed` (any string, e.g. a custom_id) varies the content."""

    def __init__(self, schema: Any, seed: str = "", *, max_depth: int = 4) -> None:
        self.root = schema
        self.rng = random.Random(f"values:{seed}")
        self.max_depth = max_depth

    def make(self) -> Any:
        return self._value(self.root, 0)

    # -- dispatch ---------------------------------------------------------------------------
    def _value(self, schema: Any, depth: int) -> Any:
        if schema is True or schema == {}:
            return self._word()
        if not isinstance(schema, dict):
            return None
        schema = described(schema)  # bounds a transform moved into the description still bind
        if "$ref" in schema:
            target = self._resolve(schema["$ref"])
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return self._value({**target, **rest} if rest else target, depth + 1)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.rng.choice(list(schema["enum"]))
        if "allOf" in schema:
            return self._value(self._merge_all_of(schema), depth)
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                return self._value(self._pick_branch(schema[key], depth), depth)
        kind = self._type_of(schema)
        maker = {
            "object": self._object,
            "array": self._array,
            "string": self._string,
            "integer": self._integer,
            "number": self._number,
        }.get(kind)
        if maker is not None:
            return maker(schema, depth)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self._word()

    def _type_of(self, schema: dict[str, Any]) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            non_null = [k for k in kind if k != "null"]
            kind = non_null[0] if non_null else "null"
        if isinstance(kind, str):
            return kind
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        return "any"

    # -- composition ------------------------------------------------------------------------
    def _resolve(self, ref: str) -> Any:
        """The schema a local `$ref` points to (JSON-pointer escapes and percent-encoding decoded,
        as `_jsonschema_walk` reads them everywhere else); a boolean target `true` is `{}`."""
        if not ref.startswith("#"):
            raise ValueError(f"only local $refs are resolved, not {ref!r}")
        target = resolve_pointer(self.root, ref)
        if target is None or target is False:
            raise ValueError(f"$ref {ref!r} points to no schema an instance can satisfy")
        return {} if target is True else target

    def _merge_all_of(self, schema: dict[str, Any]) -> dict[str, Any]:
        return merge_all_of(schema, self._resolve)

    def _pick_branch(self, branches: list[Any], depth: int) -> Any:
        # Deep in a recursive schema, prefer a branch that cannot recurse (null, a scalar).
        if depth >= self.max_depth:
            for branch in branches:
                if isinstance(branch, dict) and "$ref" not in branch and branch.get("type") != "object":
                    return branch
        non_null = [b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")]
        return self.rng.choice(non_null or branches)

    # -- containers -------------------------------------------------------------------------
    def _object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = schema.get("properties", {})
        required = list(dict.fromkeys(schema.get("required", [])))
        out: dict[str, Any] = {}
        # Required properties first (the API emits them first, [SO]); optional ones only while
        # shallow, so recursive schemas terminate.
        for name in required:
            out[name] = self._value(properties.get(name, True), depth + 1)
        if depth < self.max_depth:
            for name, sub in properties.items():
                if name not in out:
                    out[name] = self._value(sub, depth + 1)
        minimum = int(schema.get("minProperties", 0))
        extra = schema.get("additionalProperties", True)
        index = 0
        while len(out) < minimum and extra is not False:
            out[f"extra_{index}"] = self._value(extra if isinstance(extra, dict) else True, depth + 1)
            index += 1
        return out

    def _array(self, schema: dict[str, Any], depth: int) -> list[Any]:
        prefix = schema.get("prefixItems", [])
        low = int(schema.get("minItems", 0))
        high = schema.get("maxItems")
        items = schema.get("items", True)
        count = max(low if depth >= self.max_depth else max(low, 2), len(prefix))
        if high is not None:
            count = min(count, int(high))
        if items is False:
            count = min(count, len(prefix))
        out: list[Any] = []
        for index in range(count):
            sub = prefix[index] if index < len(prefix) else items
            value = self._value(sub, depth + 1)
            if schema.get("uniqueItems"):
                for _ in range(8):
                    if value not in out:
                        break
                    value = self._value(sub, depth + 1)
            out.append(value)
        return out

    # -- scalars ----------------------------------------------------------------------------
    def _word(self) -> str:
        return f"{self.rng.choice(_WORDS)}-{self.rng.randrange(1000):03d}"

    def _string(self, schema: dict[str, Any], depth: int) -> str:
        fmt = schema.get("format")
        n = self.rng.randrange(1, 28)
        formatted = {
            "date": f"2026-{n % 12 + 1:02d}-{n:02d}",
            "date-time": f"2026-{n % 12 + 1:02d}-{n:02d}T{n % 24:02d}:{n:02d}:00Z",
            "time": f"{n % 24:02d}:{n:02d}:00Z",
            "duration": f"P{n}D",
            "email": f"{self.rng.choice(_WORDS)}{n}@example.com",
            "hostname": f"{self.rng.choice(_WORDS)}.example.com",
            "uri": f"https://example.com/{self.rng.choice(_WORDS)}/{n}",
            "ipv4": f"192.0.2.{n}",
            "ipv6": f"2001:db8::{n:x}",
            "uuid": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
        }
        text = formatted.get(fmt) if isinstance(fmt, str) else None
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            matched = pattern_string(pattern, self.rng, min_length=low, max_length=high)
            if matched is not None:
                return matched
        if text is None:
            text = self._word()
        while len(text) < low:
            text += "-" + self._word()
        if high is not None:
            text = text[: int(high)]
        return text

    def _integer(self, schema: dict[str, Any], depth: int) -> int:
        low, high = self._bounds(schema, integer=True)
        step = schema.get("multipleOf")
        value = self.rng.randint(int(low), int(high))
        if isinstance(step, int) and step > 0:
            value = -(-int(low) // step) * step
            if value > high:
                value = int(low)
        return value

    def _number(self, schema: dict[str, Any], depth: int) -> float:
        low, high = self._bounds(schema, integer=False)
        step = schema.get("multipleOf")
        if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0:
            first, last = math.ceil(low / step), math.floor(high / step)
            n = self.rng.randint(first, max(first, last)) if last - first < 10**6 else first
            places = max(0, -math.floor(math.log10(step))) + 2 if step < 1 else 0
            return float(round(n * step, places))
        return round(self.rng.uniform(low, high), 2) if high - low > 0.02 else low

    def _bounds(self, schema: dict[str, Any], *, integer: bool) -> tuple[float, float]:
        low = float(schema.get("minimum", 0))
        high = float(schema.get("maximum", max(low, 0) + 100))
        nudge = 1 if integer else 0.01
        if "exclusiveMinimum" in schema:
            low = max(low, float(schema["exclusiveMinimum"]) + nudge)
        if "exclusiveMaximum" in schema:
            high = min(high, float(schema["exclusiveMaximum"]) - nudge)
        if integer:
            low, high = float(-(-low // 1)), float(high // 1)
        return low, max(low, high)


def example_value(schema: Any, seed: str = "", *, max_depth: int = 4) -> Any:
    """A deterministic instance of `schema` (same schema and seed → same value)."""
    return ValueMaker(schema, seed, max_depth=max_depth).make()


def invalid_value(schema: Any, seed: str = "") -> Any:
    """A value that does NOT validate against `schema`: a required key dropped or a wrong type.

    Used for the "schema-invalid tool input" outcome, which real models produce now and then.
    """
    value = example_value(schema, seed)
    maker = ValueMaker(schema, seed)
    node = schema
    while isinstance(node, dict) and "$ref" in node:
        node = maker._resolve(node["$ref"])
    if isinstance(value, dict) and isinstance(node, dict):
        required = node.get("required") or []
        if required:
            value.pop(required[0], None)
            return value
        properties = node.get("properties") or {}
        for name, sub in properties.items():
            if isinstance(sub, dict) and sub.get("type") in ("string", "integer", "number", "boolean"):
                value[name] = [] if sub.get("type") != "string" else 12345
                return value
        return ["not", "an", "object"]
    if isinstance(value, str):
        return 12345
    return "not-a-valid-value"
