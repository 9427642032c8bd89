"""Results as tables: one row per key, typed columns from the schema, nested values as structs,
the same rows in Arrow, pandas, polars, Parquet, CSV and JSONL."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import BaseModel

import structbatch as sb
from structbatch._export import (
    LEADING_COLUMNS,
    MissingDependency,
    outcomes_to_arrow,
    to_pandas,
    to_polars,
    write_export,
)
from structbatch._outcome import FailureKind, Outcome, Usage


class Address(BaseModel):
    city: str
    zip: str | None = None


class Person(BaseModel):
    name: str
    age: int
    score: float | None = None
    active: bool = True
    address: Address
    tags: list[str] = []
    meta: dict[str, Any] = {}
    key: str = ""  # collides with a leading column


def outcomes() -> list[Outcome[Any]]:
    ada = Person(name="Ada", age=36, score=9.5, address=Address(city="London"), tags=["math"], key="x")
    return [
        Outcome.success(ada, key="p1", custom_id="p1", usage=Usage(100, 20), attempts=1, mode="tool"),
        Outcome.fail(
            FailureKind.INVALID,
            "$.age: Field required",
            {"errors": [{"path": "$.age", "message": "Field required"}]},
            key="p2",
            custom_id="p2",
            usage=Usage(90, 10),
            attempts=2,
            mode="tool",
        ),
    ]


def test_arrow_has_one_row_per_key_with_typed_value_columns() -> None:
    spec = sb.compile(Person)
    table = outcomes_to_arrow(outcomes(), spec, model="claude-haiku-4-5")
    assert table.num_rows == 2
    assert table.column_names[: len(LEADING_COLUMNS)] == list(LEADING_COLUMNS)
    assert table.column_names[len(LEADING_COLUMNS) :] == [
        "name",
        "age",
        "score",
        "active",
        "address",
        "tags",
        "meta",
        "value.key",
    ]
    schema = table.schema
    assert schema.field("age").type == pa.int64() and schema.field("score").type == pa.float64()
    assert schema.field("active").type == pa.bool_() and schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("address").type == pa.struct([("city", pa.string()), ("zip", pa.string())])
    assert schema.field("meta").type == pa.string()  # a free-form object: JSON text
    rows = table.to_pylist()
    ok, bad = rows
    assert (
        ok["ok"] is True and ok["kind"] is None and ok["name"] == "Ada" and ok["address"]["city"] == "London"
    )
    assert ok["value.key"] == "x" and ok["key"] == "p1" and ok["meta"] == "{}"
    assert ok["cost"] == pytest.approx((100 * 1.0 + 20 * 5.0) / 1e6 * 0.5)
    assert bad["ok"] is False and bad["kind"] == "invalid" and bad["attempts"] == 2 and bad["name"] is None
    assert json.loads(bad["details"])["errors"][0]["path"] == "$.age"


def test_columns_keep_their_type_when_every_value_is_null() -> None:
    spec = sb.compile(Person)
    table = outcomes_to_arrow(outcomes()[1:], spec)  # failures only
    assert table.schema.field("age").type == pa.int64() and table.column("cost").to_pylist() == [None]


def test_json_schema_specs_wrapped_specs_refs_and_big_integers() -> None:
    schema = {
        "type": "object",
        "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}},
        "properties": {
            "n": {"type": "integer"},
            "category": {"enum": ["a", "b"]},
            "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "tree": {"$ref": "#/$defs/Node"},
        },
        "additionalProperties": True,
    }
    spec = sb.compile(schema, name="Thing")
    big = 2**70
    values = [{"n": big, "category": "a", "either": 3, "tree": {"child": {}}, "surprise": 1}]
    table = outcomes_to_arrow([Outcome.success(v, key=str(i)) for i, v in enumerate(values)], spec)
    row = table.to_pylist()[0]
    assert row["n"] == str(big)  # beyond int64: exact as text, not a rounded float
    assert row["category"] == "a" and row["either"] == "3" and json.loads(row["extra"]) == {"surprise": 1}
    assert table.schema.field("tree").type == pa.struct([("child", pa.string())])  # recursion stops as JSON
    wrapped = sb.compile({"type": "array", "items": {"type": "integer"}}, name="Numbers", wrap="items")
    table = outcomes_to_arrow([Outcome.success([1, 2], key="a")], wrapped)
    assert table.column("items").to_pylist() == [[1, 2]]


def test_pandas_and_polars_come_from_the_same_table() -> None:
    spec = sb.compile(Person)
    frame = to_pandas(outcomes(), spec)
    assert list(frame["key"]) == ["p1", "p2"] and frame.loc[0, "address"]["city"] == "London"
    polars_frame = to_polars(outcomes(), spec)
    assert polars_frame["name"].to_list() == ["Ada", None]
    assert polars_frame["address"].struct.field("city").to_list() == ["London", None]


def test_files_parquet_csv_jsonl(tmp_path: Path) -> None:
    spec = sb.compile(Person)
    assert write_export(outcomes(), spec, "parquet", tmp_path / "p.parquet") == 2
    assert (
        pq.read_table(tmp_path / "p.parquet").to_pylist() == outcomes_to_arrow(outcomes(), spec).to_pylist()
    )
    assert write_export(outcomes(), spec, "csv", tmp_path / "p.csv") == 2
    rows = list(csv.DictReader(io.StringIO((tmp_path / "p.csv").read_text(encoding="utf-8"))))
    assert rows[0]["address.city"] == "London" and rows[0]["address.zip"] == "" and rows[0]["ok"] == "true"
    assert json.loads(rows[0]["tags"]) == ["math"] and rows[1]["kind"] == "invalid"
    out = io.StringIO()
    assert write_export(outcomes(), spec, "jsonl", out) == 2
    first = json.loads(out.getvalue().splitlines()[0])
    assert first["address"] == {"city": "London", "zip": None} and first["age"] == 36
    with pytest.raises(ValueError, match="unknown export format"):
        write_export(outcomes(), spec, "xlsx", tmp_path / "p.xlsx")


def test_a_missing_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    spec = sb.compile(Person)
    with pytest.raises(MissingDependency, match=r"pip install 'structbatch\[arrow\]'"):
        outcomes_to_arrow(outcomes(), spec)
    assert write_export(outcomes(), spec, "csv", tmp_path / "p.csv") == 2  # CSV needs no pyarrow
