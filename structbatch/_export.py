"""Results as tables: one row per key, for Arrow, pandas, polars, Parquet, CSV and JSONL.

Every row has the same leading columns, then the value's fields:

    key, custom_id, ok, kind, message, details, attempts, mode, input_tokens, output_tokens,
    cache_creation_input_tokens, cache_read_input_tokens, cost, repairs, <value fields...>

`kind`, `message` and `details` (JSON text) are null for successes; `cost` is the estimated US$
at batch prices (null when the model has no price). The value's top-level fields become columns
typed from the spec's JSON Schema, so a column keeps its type even when every value is null:
strings, integers (int64), numbers (float64), booleans, objects with declared properties as
structs, arrays as lists. What Arrow cannot type faithfully (free-form objects, unions,
recursive references, integers beyond 64 bits) is a JSON-text column instead. A value field whose
name is one of the leading columns is called `value.<name>`; undeclared fields (a schema that
allows additional properties) are kept together as JSON text in `extra`. A wrapped spec
(`wrap = "items"`) has one value column named after the wrap field.

CSV flattens structs into dotted columns (`address.city`) and writes lists as JSON text; JSONL
keeps values nested. Only Arrow itself (and so Parquet, pandas, polars) needs `pyarrow`, the
optional extra `structbatch[arrow]`.
"""

from __future__ import annotations

import csv
import importlib
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from ._cost import batch_cost
from ._outcome import Outcome
from ._output import atomic_writer, dumps_json, json_value

if TYPE_CHECKING:
    import polars

    from ._schema import Spec

# pyarrow and pandas ship no type information, so their objects are `Any` to the checker here:
#: A `pyarrow.Table`.
ArrowTable = Any
#: A `pandas.DataFrame`.
PandasFrame = Any

ExportFormat = Literal["parquet", "csv", "jsonl"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("parquet", "csv", "jsonl")
LEADING_COLUMNS = (
    "key",
    "custom_id",
    "ok",
    "kind",
    "message",
    "details",
    "attempts",
    "mode",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cost",
    "repairs",
)
INSTALL_HINT = "pip install 'structbatch[arrow]'"


class MissingDependency(ImportError):
    """An optional dependency of tabular export is not installed (the message says how)."""


def require_pyarrow() -> Any:
    """`pyarrow`, or a `MissingDependency` that says which extra installs it."""
    try:
        pyarrow = importlib.import_module("pyarrow")
    except ImportError:
        raise MissingDependency(
            f"tabular export (to_arrow, to_pandas, to_polars, --format parquet) needs pyarrow: {INSTALL_HINT}"
        ) from None
    return pyarrow


# -- the value's shape, from the JSON Schema -----------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """How one schema node becomes a column: `kind` is scalar, struct, list or json (text)."""

    kind: Literal["string", "integer", "number", "boolean", "struct", "list", "json"]
    fields: tuple[tuple[str, Shape], ...] = ()
    items: Shape | None = None


_JSON = Shape("json")
_SCALARS = {k: Shape(k) for k in ("string", "integer", "number", "boolean")}


def shape_of(node: Any, root: Mapping[str, Any], seen: frozenset[str] = frozenset()) -> Shape:
    """The column shape of a JSON Schema node (local `$ref`s resolved, recursion becomes json)."""
    if not isinstance(node, Mapping):
        return _JSON
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen or not ref.startswith("#/"):
            return _JSON
        target: Any = root
        for part in ref[2:].split("/"):
            target = (
                target.get(part.replace("~1", "/").replace("~0", "~"))
                if isinstance(target, Mapping)
                else None
            )
        return shape_of(target, root, seen | {ref})
    for union in ("anyOf", "oneOf"):
        if union in node:
            options = [o for o in node[union] if not (isinstance(o, Mapping) and o.get("type") == "null")]
            return shape_of(options[0], root, seen) if len(options) == 1 else _JSON
    if "allOf" in node and len(node["allOf"]) == 1:
        return shape_of(node["allOf"][0], root, seen)
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind is None and "enum" in node:
        values = node["enum"]
        kind = "string" if values and all(isinstance(v, str) for v in values) else None
    if kind is None and "const" in node and isinstance(node["const"], str):
        kind = "string"
    if kind is None and "properties" in node:
        kind = "object"
    scalar = _SCALARS.get(kind) if isinstance(kind, str) else None
    if scalar is not None:
        return scalar
    if kind == "object":
        props = node.get("properties")
        if not isinstance(props, Mapping) or not props:
            return _JSON  # a free-form object: no fixed fields to make a struct of
        return Shape("struct", tuple((name, shape_of(sub, root, seen)) for name, sub in props.items()))
    if kind == "array":
        items = node.get("items")
        return Shape("list", items=shape_of(items, root, seen)) if isinstance(items, Mapping) else _JSON
    return _JSON


def value_shape(spec: Spec[Any]) -> Shape:
    """The shape of the tool input (the wrapped object for a wrapped spec)."""
    schema = spec.tool["input_schema"]
    return shape_of(schema, schema)


def _value_columns(shape: Shape) -> list[tuple[str, str, Shape]]:
    """(column name, field name, shape) for each declared top-level field of the value."""
    taken = set(LEADING_COLUMNS) | {"extra"}
    return [(f"value.{name}" if name in taken else name, name, sub) for name, sub in shape.fields]


# -- rows ----------------------------------------------------------------------------------------


def _as_object(spec: Spec[Any], outcome: Outcome[Any]) -> dict[str, Any]:
    value = json_value(outcome.value)
    if spec.wrap:
        return {spec.wrap: value}
    return value if isinstance(value, dict) else {}


def iter_rows(
    outcomes: Iterable[Outcome[Any]], spec: Spec[Any], *, model: str | None = None
) -> Iterator[dict[str, Any]]:
    """One plain dict per outcome: the leading columns, the value's fields (nested values as
    Python objects), and `extra` for undeclared fields. JSON-ready."""
    columns = _value_columns(value_shape(spec))
    declared = {field for _, field, _ in columns}
    for o in outcomes:
        u = o.usage
        row: dict[str, Any] = {
            "key": o.key,
            "custom_id": o.custom_id,
            "ok": o.ok,
            "kind": o.failure.kind.value if o.failure else None,
            "message": o.failure.message if o.failure else None,
            "details": dumps_json(json_value(dict(o.failure.details))).decode() if o.failure else None,
            "attempts": o.attempts,
            "mode": o.mode,
            "input_tokens": u.input_tokens,
            "output_tokens": u.output_tokens,
            "cache_creation_input_tokens": u.cache_creation_input_tokens,
            "cache_read_input_tokens": u.cache_read_input_tokens,
            "cost": batch_cost(model, u) if model else None,
            "repairs": list(o.repairs),
        }
        obj = _as_object(spec, o) if o.ok else {}
        for column, field, _ in columns:
            row[column] = obj.get(field)
        extra = {k: v for k, v in obj.items() if k not in declared}
        row["extra"] = dumps_json(extra).decode() if extra else None
        yield row


# -- Arrow ---------------------------------------------------------------------------------------


def _arrow_type(pa: Any, shape: Shape) -> Any:
    if shape.kind == "string" or shape.kind == "json":
        return pa.string()
    if shape.kind == "integer":
        return pa.int64()
    if shape.kind == "number":
        return pa.float64()
    if shape.kind == "boolean":
        return pa.bool_()
    if shape.kind == "list":
        assert shape.items is not None
        return pa.list_(_arrow_type(pa, shape.items))
    return pa.struct([pa.field(name, _arrow_type(pa, sub)) for name, sub in shape.fields])


def _converter(shape: Shape) -> Callable[[Any], Any]:
    """Python value -> what `pyarrow.array` accepts for `shape` (json nodes become text)."""
    if shape.kind == "json":
        return lambda v: None if v is None else dumps_json(v).decode()
    if shape.kind == "struct":
        subs = [(name, _converter(sub)) for name, sub in shape.fields]
        return lambda v: None if not isinstance(v, Mapping) else {n: c(v.get(n)) for n, c in subs}
    if shape.kind == "list":
        assert shape.items is not None
        item = _converter(shape.items)
        return lambda v: None if not isinstance(v, list) else [item(x) for x in v]
    if shape.kind == "number":
        return lambda v: None if v is None else float(v)
    return lambda v: v


def _column(pa: Any, values: list[Any], shape: Shape) -> Any:
    try:
        convert = _converter(shape)
        return pa.array([convert(v) for v in values], type=_arrow_type(pa, shape))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        # Something the declared type cannot hold exactly (a 70-bit integer, ...): keep it as text.
        return pa.array([None if v is None else dumps_json(v).decode() for v in values], type=pa.string())


def outcomes_to_arrow(
    outcomes: Iterable[Outcome[Any]], spec: Spec[Any], *, model: str | None = None
) -> ArrowTable:
    """A `pyarrow.Table` with one row per outcome (columns: see the module docstring).

    `model` prices each row's tokens (the `cost` column; null without it)."""
    pa = require_pyarrow()
    columns = _value_columns(value_shape(spec))
    rows = list(iter_rows(outcomes, spec, model=model))

    def col(name: str) -> list[Any]:
        return [r[name] for r in rows]

    leading = {
        "key": pa.array(col("key"), pa.string()),
        "custom_id": pa.array(col("custom_id"), pa.string()),
        "ok": pa.array(col("ok"), pa.bool_()),
        "kind": pa.array(col("kind"), pa.string()),
        "message": pa.array(col("message"), pa.string()),
        "details": pa.array(col("details"), pa.string()),
        "attempts": pa.array(col("attempts"), pa.int32()),
        "mode": pa.array(col("mode"), pa.string()),
        **{
            name: pa.array(col(name), pa.int64())
            for name in (
                "input_tokens",
                "output_tokens",
                "cache_creation_input_tokens",
                "cache_read_input_tokens",
            )
        },
        "cost": pa.array(col("cost"), pa.float64()),
        "repairs": pa.array(col("repairs"), pa.list_(pa.string())),
    }
    values = {column: _column(pa, col(column), shape) for column, _, shape in columns}
    extra = {"extra": pa.array(col("extra"), pa.string())} if any(r["extra"] for r in rows) else {}
    return pa.table({**leading, **values, **extra})


def to_pandas(outcomes: Iterable[Outcome[Any]], spec: Spec[Any], *, model: str | None = None) -> PandasFrame:
    """The table as a pandas DataFrame (via Arrow; structs become dicts, lists arrays)."""
    return outcomes_to_arrow(outcomes, spec, model=model).to_pandas()


def to_polars(
    outcomes: Iterable[Outcome[Any]], spec: Spec[Any], *, model: str | None = None
) -> polars.DataFrame:
    """The table as a polars DataFrame (via Arrow, zero-copy where it can; structs stay structs)."""
    try:
        import polars
    except ImportError:
        raise MissingDependency("to_polars needs polars: pip install polars") from None
    frame = polars.from_arrow(outcomes_to_arrow(outcomes, spec, model=model))
    assert isinstance(frame, polars.DataFrame)
    return frame


# -- files ---------------------------------------------------------------------------------------


def write_export(
    outcomes: Iterable[Outcome[Any]],
    spec: Spec[Any],
    format: ExportFormat | str,
    target: Path | TextIO,
    *,
    model: str | None = None,
) -> int:
    """Write the table as `format` to a path (atomically) or a text stream (csv, jsonl);
    returns the number of rows. Parquet needs pyarrow (`structbatch[arrow]`)."""
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {format!r}; one of {', '.join(EXPORT_FORMATS)}")
    if format == "parquet":
        if not isinstance(target, Path):
            raise ValueError("parquet is written to a file path, not a stream")
        pq = _parquet()
        table = outcomes_to_arrow(outcomes, spec, model=model)
        with atomic_writer(target) as fh:
            pq.write_table(table, fh)
        return int(table.num_rows)
    rows = iter_rows(outcomes, spec, model=model)
    if isinstance(target, Path):
        with atomic_writer(target) as fh:
            text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
            try:
                return _write_text(rows, spec, format, text)
            finally:
                text.flush()
                text.detach()
    return _write_text(rows, spec, format, target)


def _parquet() -> Any:
    require_pyarrow()
    return importlib.import_module("pyarrow.parquet")


def _write_text(rows: Iterator[dict[str, Any]], spec: Spec[Any], format: str, out: TextIO) -> int:
    n = 0
    if format == "jsonl":
        for row in rows:
            out.write(dumps_json(row).decode() + "\n")
            n += 1
        return n
    flat = _flat_columns(value_shape(spec))
    header = [*LEADING_COLUMNS, *(name for name, _ in flat), "extra"]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        cells = [_cell(row[c]) for c in LEADING_COLUMNS]
        cells += [_cell(_dig(row, path)) for _, path in flat]
        cells.append(_cell(row["extra"]))
        writer.writerow(cells)
        n += 1
    return n


def _flat_columns(shape: Shape) -> list[tuple[str, tuple[str, ...]]]:
    """CSV columns: structs flattened into dotted names, with the path to each value."""
    out: list[tuple[str, tuple[str, ...]]] = []

    def walk(prefix: str, path: tuple[str, ...], sub: Shape) -> None:
        if sub.kind == "struct":
            for name, child in sub.fields:
                walk(f"{prefix}.{name}", (*path, name), child)
        else:
            out.append((prefix, path))

    for column, _field, sub in _value_columns(shape):
        walk(column, (column,), sub)
    return out


def _dig(row: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = row
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return dumps_json(value).decode()
