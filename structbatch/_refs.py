"""Every `$ref` of a schema resolved locally and rewritten as a plain JSON pointer.

A source schema may refer to its parts in every way JSON Schema allows: a pointer
(`#/$defs/item`), a percent-encoded pointer (`#/$defs/a%25b`), an anchor (`#foo`), a URI relative
to an embedded `$id` (`item.json`, `http://example.com/tree#/$defs/node`), a boolean schema. The
tool sent to the API and every transform in structbatch understand only the first form, so each
ref is resolved here with the source dialect's own rules (the `referencing` library: `$id` bases,
anchors, percent-decoding) and replaced by the pointer of its target in the document. Identifiers
(`$id`, `$anchor`, `$schema`) are then dropped: with every ref a pointer, they only mean something
to a validator that crawls the document, and the full source schema is kept for that.

Nothing is ever fetched: the registry holds the document alone, so a ref to anything outside it
(another file, a URL, the metaschema) is an error that says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import referencing
import referencing.exceptions
import referencing.jsonschema

from ._jsonschema_walk import _LISTS, _MAPS, _SINGLE, escape_token, fragment
from ._types import JSONSchema

if TYPE_CHECKING:
    from referencing._core import Resolver

#: keywords kept beside a `$ref` in drafts where a `$ref` ignores its siblings (up to draft 7):
#: definitions stay reachable by pointers, descriptions stay visible to the model
_KEPT_BESIDE_OLD_REF = frozenset({"$ref", "$defs", "definitions", "title", "description"})
_OLD_DRAFTS = frozenset(
    {
        "http://json-schema.org/draft-03/schema#",
        "http://json-schema.org/draft-04/schema#",
        "http://json-schema.org/draft-06/schema#",
        "http://json-schema.org/draft-07/schema#",
    }
)


class RefError(Exception):
    """A `$ref` that cannot be resolved inside the document (`where` is the node's pointer)."""

    def __init__(self, where: str, ref: str, outside: bool) -> None:
        self.where = where
        self.ref = ref
        self.outside = outside
        what = (
            "points outside the document; only local refs ('#/$defs/...') are resolved, nothing is fetched"
            if outside
            else "points to nothing in the document"
        )
        super().__init__(f"$ref {ref!r} at {where} {what}")


def normalize_refs(schema: JSONSchema, dialect_id: str) -> JSONSchema:
    """A copy of `schema` whose every `$ref` is a pointer into it and that holds no identifiers.

    A ref to a boolean schema becomes an `allOf` member with that boolean (the same meaning).
    Raises `RefError` for a ref that points nowhere or outside the document.
    """
    spec = referencing.jsonschema.specification_with(dialect_id, default=referencing.jsonschema.DRAFT202012)
    root = spec.create_resource(schema)
    base = root.id() or ""
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(base, root).crawl()
    pointers: dict[int, list[str]] = {}
    _index(schema, [], pointers)
    rewriter = _Rewriter(spec, pointers, old=dialect_id in _OLD_DRAFTS)
    return rewriter.node(schema, registry.resolver(base), "#")


def _index(obj: Any, tokens: list[str], out: dict[int, list[str]]) -> None:
    """Map every dict in the document (by identity) to its pointer: targets are found by identity."""
    if isinstance(obj, dict):
        out.setdefault(id(obj), tokens)
        for key, value in obj.items():
            _index(value, [*tokens, str(key)], out)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _index(value, [*tokens, str(i)], out)


class _Rewriter:
    def __init__(
        self, spec: referencing.Specification[Any], pointers: dict[int, list[str]], old: bool
    ) -> None:
        self.spec = spec
        self.pointers = pointers
        self.old = old

    def node(self, node: JSONSchema, resolver: Resolver[Any], where: str) -> JSONSchema:
        if self.spec.id_of(node) is not None:
            resolver = resolver.in_subresource(self.spec.create_resource(node))
        out: JSONSchema = dict(node)
        ref = node.get("$ref")
        if isinstance(ref, str):
            if self.old:
                out = {k: v for k, v in out.items() if k in _KEPT_BESIDE_OLD_REF}
            target = self.lookup(resolver, ref, where)
            if isinstance(target, bool):
                del out["$ref"]
                out["allOf"] = [*(out.get("allOf") or []), target]
            else:
                tokens = self.pointers.get(id(target))
                if tokens is None:  # resolved, but not to a part of this document
                    raise RefError(where, ref, outside=True)
                out["$ref"] = fragment(tokens)
        for key in ("$id", "$anchor", "$schema"):
            out.pop(key, None)
        if self.old and isinstance(out.get("id"), str):
            del out["id"]  # drafts 3 and 4 spell the identifier `id`
        for key in _SINGLE:
            sub = out.get(key)
            if isinstance(sub, dict):
                out[key] = self.node(sub, resolver, f"{where}/{key}")
            elif key == "items" and isinstance(sub, list):
                out[key] = self.each(sub, resolver, f"{where}/{key}")
        for key in _LISTS:
            subs = out.get(key)
            if isinstance(subs, list):
                out[key] = self.each(subs, resolver, f"{where}/{key}")
        for key in _MAPS:
            subs = out.get(key)
            if isinstance(subs, dict):
                out[key] = {
                    k: self.node(s, resolver, f"{where}/{key}/{escape_token(k)}")
                    if isinstance(s, dict)
                    else s
                    for k, s in subs.items()
                }
        return out

    def each(self, subs: list[Any], resolver: Resolver[Any], where: str) -> list[Any]:
        return [
            self.node(s, resolver, f"{where}/{i}") if isinstance(s, dict) else s for i, s in enumerate(subs)
        ]

    def lookup(self, resolver: Resolver[Any], ref: str, where: str) -> Any:
        try:
            return resolver.lookup(ref).contents
        except (referencing.exceptions.PointerToNowhere, referencing.exceptions.NoSuchAnchor) as exc:
            raise RefError(where, ref, outside=False) from exc
        except referencing.exceptions.Unresolvable as exc:
            # a fragment that names nothing in this very document is dangling, not remote
            outside = not ref.startswith("#")
            raise RefError(where, ref, outside=outside) from exc
