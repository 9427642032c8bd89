"""Is a value valid against one subschema of a root schema? What a union coercion asks of
each branch (`_coerce`), answered by jsonschema, or, where jsonschema's recursion runs out of
stack, by the branch's compiled fast check (trusted for "valid" only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema

from ._fastcheck import compile_fast_check
from ._jsonschema_walk import local_refs

JSONSchema = dict[str, Any]

#: validators per root schema, keyed by id; the schema is kept alive alongside its validator, with
#: the fast checks of its union branches (by id, each kept with its branch) made when needed
_VALIDATORS: dict[
    int, tuple[JSONSchema, Any, dict[int, tuple[JSONSchema, Callable[[Any], bool] | None]]]
] = {}


def fit_checker(root: JSONSchema) -> Callable[[Any, Any], bool]:
    """`fits(value, subschema)`: jsonschema validity of a value against a subschema of `root`.

    jsonschema counts `5.0` as an integer; callers coerce before they check, so this only ever
    sees integral floats that were already turned into ints. jsonschema recurses several frames
    per level of the value, so a value some 150 levels deep exhausts the stack; then the
    compiled fast check (`_fastcheck`, trusted for "valid" only) answers, as it does for the
    whole value in `Spec.validate`, and when it cannot vouch the RecursionError stands (the
    coercion is given up: the readings of the union are unknown).
    """
    entry = _VALIDATORS.get(id(root))
    if entry is None or entry[0] is not root:
        cls = jsonschema.validators.validator_for(root, default=jsonschema.Draft202012Validator)
        if len(_VALIDATORS) > 256:
            _VALIDATORS.clear()
        entry = (root, cls(root), {})
        _VALIDATORS[id(root)] = entry
    _, validator, fast_checks = entry

    def fits(value: Any, sub: Any) -> bool:
        if not isinstance(sub, (dict, bool)):
            return False
        try:
            return bool(validator.evolve(schema=sub).is_valid(value))
        except RecursionError:
            if isinstance(sub, dict):
                if id(sub) not in fast_checks:
                    fast_checks[id(sub)] = (sub, _branch_check(root, sub, type(validator)))
                check = fast_checks[id(sub)][1]
                if check is not None and check(value):
                    return True
            raise

    return fits


def _branch_check(root: JSONSchema, sub: JSONSchema, dialect: type[Any]) -> Callable[[Any], bool] | None:
    """The fast check of `sub` as a document of its own with `root`'s definitions, when every
    ref in it is a pointer into those definitions (so it resolves exactly as inside `root`)."""
    doc = dict(sub)
    for key in ("$defs", "definitions"):
        if key in root and key not in doc:
            doc[key] = root[key]
    if any(not ref.startswith(("#/$defs/", "#/definitions/")) for _, ref in local_refs(doc)):
        return None
    return compile_fast_check(doc, dialect)
