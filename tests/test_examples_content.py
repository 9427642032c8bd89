"""The example content stays sound: schemas, their Pydantic twins, and the input data.

* every ``schemas/*.json`` is a valid draft 2020-12 schema, documented, closed
  (``additionalProperties: false``, ``required`` listed) and inside the subset the API's native
  structured output accepts, so every mode can use it;
* every model in ``examples/models.py`` has the same shape as its schema file (property names,
  required sets, types, enums, formats, patterns, array bounds; ``$defs`` resolved);
* ``examples/data/`` has the promised rows, unique keys and the fields the example jobs template,
  and is exactly what ``examples/data/_generate.py`` produces.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ValidationError

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
EXAMPLES = ROOT / "examples"
DATA = EXAMPLES / "data"

# schema file -> model class name in examples/models.py
PAIRS = {
    "recipe.json": "Recipe",
    "invoice.json": "Invoice",
    "citation.json": "Citation",
    "job_posting.json": "JobPosting",
}

# Keywords the API's structured-output grammar rejects (../shared/reference/anthropic-api.md §2,
# "Not supported (400)": numeric bounds, string length, array constraints other than minItems 0/1).
UNSUPPORTED_KEYWORDS = {
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "maxItems",
    "uniqueItems",
    "contains",
    "minContains",
    "maxContains",
    "prefixItems",
    "minProperties",
    "maxProperties",
    "patternProperties",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "if",
    "then",
    "else",
    "not",
    "unevaluatedProperties",
    "unevaluatedItems",
}
# Per-request complexity caps (same reference, §2): 24 optional params, 16 union-typed params.
MAX_OPTIONAL = 24
MAX_UNION = 16

CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves postponed annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def models() -> ModuleType:
    return _load_module("_structbatch_example_models", EXAMPLES / "models.py")


def _schema(name: str) -> dict[str, Any]:
    data = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# ---------------------------------------------------------------------------------------------
# Schema walking


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/"), f"non-local $ref {ref!r}"
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    assert isinstance(node, dict)
    return node


def _subschemas(node: dict[str, Any], path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node in a document, with a JSON-pointer-ish path (``$defs`` included)."""
    yield path, node
    for name, sub in node.get("properties", {}).items():
        yield from _subschemas(sub, f"{path}/properties/{name}")
    for name, sub in node.get("$defs", {}).items():
        yield from _subschemas(sub, f"{path}/$defs/{name}")
    if isinstance(node.get("items"), dict):
        yield from _subschemas(node["items"], f"{path}/items")
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(node.get(key, [])):
            yield from _subschemas(sub, f"{path}/{key}/{i}")


def _types(node: dict[str, Any]) -> set[str]:
    t = node.get("type")
    if t is None:
        return set()
    return {t} if isinstance(t, str) else set(t)


def _norm(root: dict[str, Any], node: dict[str, Any], seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The structural meaning of a schema node: types, enum, format, pattern, array bounds, object
    shape, with ``$ref``s inlined and ``anyOf`` branches merged; titles, descriptions, defaults and
    the spelling (``type: [x, "null"]`` vs ``anyOf``) are ignored."""
    if "$ref" in node:
        ref = node["$ref"]
        assert ref not in seen, f"recursive $ref {ref}"
        node = {**_resolve(root, ref), **{k: v for k, v in node.items() if k != "$ref"}}
        seen = (*seen, ref)
    out: dict[str, Any] = {"types": sorted(_types(node))}
    for branch in node.get("anyOf", []):
        sub = _norm(root, branch, seen)
        out["types"] = sorted(set(out["types"]) | set(sub.pop("types")))
        for key, value in sub.items():
            assert out.get(key, value) == value, f"conflicting {key} across anyOf branches"
            out[key] = value
    if "enum" in node:
        out["enum"] = sorted(node["enum"])
    for key in ("format", "pattern", "const"):
        if key in node:
            out[key] = node[key]
    if node.get("minItems"):
        out["minItems"] = node["minItems"]
    if "items" in node:
        out["items"] = _norm(root, node["items"], seen)
    if "properties" in node:
        out["properties"] = {k: _norm(root, v, seen) for k, v in node["properties"].items()}
        out["required"] = sorted(node.get("required", []))
        out["additionalProperties"] = node.get("additionalProperties", True)
    return out


def _diff(a: Any, b: Any, path: str = "$") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        problems = []
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                problems.append(f"{path}.{key}: only in {'file' if key in a else 'model'}")
            else:
                problems += _diff(a[key], b[key], f"{path}.{key}")
        return problems
    return [] if a == b else [f"{path}: file {a!r} != model {b!r}"]


# ---------------------------------------------------------------------------------------------
# Schemas


def test_every_schema_file_has_a_model() -> None:
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(PAIRS)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_schema_is_valid_2020_12(name: str) -> None:
    schema = _schema(name)
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_schema_is_documented_and_closed(name: str) -> None:
    schema = _schema(name)
    assert schema.get("title") and schema.get("description")
    assert schema.get("type") == "object"
    objects = 0
    for path, node in _subschemas(schema):
        if "object" in _types(node) or "properties" in node:
            objects += 1
            assert node.get("additionalProperties") is False, f"{name} {path}: additionalProperties"
            assert isinstance(node.get("required"), list), f"{name} {path}: no required list"
            assert set(node["required"]) <= set(node["properties"]), f"{name} {path}: unknown required"
            for prop, sub in node["properties"].items():
                assert sub.get("description"), f"{name} {path}/properties/{prop}: no description"
    for def_name, definition in schema.get("$defs", {}).items():
        assert definition.get("description"), f"{name} $defs/{def_name}: no description"
    assert objects >= 2, f"{name}: expected a nested object"


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_schema_fits_structured_output_subset(name: str) -> None:
    schema = _schema(name)
    optional = unions = 0
    for path, node in _subschemas(schema):
        used = UNSUPPORTED_KEYWORDS & set(node)
        assert not used, f"{name} {path}: unsupported keyword(s) {sorted(used)}"
        assert node.get("minItems", 0) in (0, 1), f"{name} {path}: minItems > 1"
        if "$ref" in node:
            assert node["$ref"].startswith("#/$defs/"), f"{name} {path}: non-local $ref"
        if "pattern" in node:  # "simple" patterns only: no lookaround or backreferences
            assert not re.search(r"\(\?[=!<]|\\[1-9]", node["pattern"]), f"{name} {path}: complex pattern"
            re.compile(node["pattern"])
        if "enum" in node:
            assert all(isinstance(v, str | int | float | bool) for v in node["enum"]), "complex enum"
        if "properties" in node:
            optional += len(set(node["properties"]) - set(node["required"]))
            for sub in node["properties"].values():
                unions += len(_types(sub)) > 1 or "anyOf" in sub
    _norm(schema, schema)  # raises on recursion
    assert optional <= MAX_OPTIONAL, f"{name}: {optional} optional params"
    assert unions <= MAX_UNION, f"{name}: {unions} union-typed params"


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_sdk_transform_keeps_the_schema_whole(name: str) -> None:
    """The SDK's own ``transform_schema`` (what ``messages.parse`` sends) accepts the schema and
    has to demote nothing to a description except ``pattern``. (It does not know ``$schema``,
    which is metadata that a compiler strips before sending.)"""
    from anthropic import transform_schema

    schema = {k: v for k, v in _schema(name).items() if k != "$schema"}
    out = transform_schema(schema)
    demoted = [
        (path, node["description"].rsplit("\n\n", 1)[-1])
        for path, node in _subschemas(out)
        if "\n\n{" in node.get("description", "")
    ]
    assert all(text.startswith("{pattern: ") for _, text in demoted), demoted


# ---------------------------------------------------------------------------------------------
# Models


@pytest.mark.parametrize(("name", "model_name"), sorted(PAIRS.items()))
def test_model_matches_schema_file(models: ModuleType, name: str, model_name: str) -> None:
    model: type[BaseModel] = getattr(models, model_name)
    file_schema = _schema(name)
    model_schema = model.model_json_schema()
    problems = _diff(_norm(file_schema, file_schema), _norm(model_schema, model_schema))
    assert not problems, f"{model_name} vs schemas/{name}:\n" + "\n".join(problems)
    assert model.__doc__, f"{model_name} has no docstring"


def test_models_module_exports_every_promised_class(models: ModuleType) -> None:
    for cls in ("Recipe", "Ingredient", "Invoice", "LineItem", "Vendor", "Citation", "Author",
                "JobPosting", "Location", "Salary"):  # fmt: skip
        obj = getattr(models, cls)
        assert isinstance(obj, type) and issubclass(obj, BaseModel), cls
        assert obj.__doc__, f"{cls} has no docstring"
    assert "Attributes:" in (models.Recipe.__doc__ or "")


GOOD: dict[str, dict[str, Any]] = {
    "recipe.json": {
        "title": "Gran's rhubarb crumble",
        "ingredients": [
            {"name": "rhubarb", "quantity": 600, "unit": "g"},
            {"name": "eggs", "quantity": 2, "unit": None},
        ],
        "cook_time_minutes": 45,
        "servings": None,
        "steps": ["Chop the rhubarb.", "Bake 35 minutes."],
    },
    "invoice.json": {
        "invoice_number": "HF-00991",
        "issue_date": "2024-10-02",
        "due_date": None,
        "vendor": {"name": "Harrow & Finch Stationers Ltd", "address": "14 Kirkgate, Leeds"},
        "currency": "GBP",
        "line_items": [{"description": "Envelopes C5", "quantity": 3, "unit_price": 7.2, "total": 21.6}],
        "subtotal": 21.6,
        "tax": 4.32,
        "total": 25.92,
    },
    "citation.json": {
        "title": "Snow Depth Retrieval from Consumer-Grade GNSS Receivers",
        "authors": [
            {"given": "J.-P.", "family": "Müller"},
            {"given": None, "family": "OpenHydro Consortium"},
        ],
        "year": 2021,
        "venue": "EarthArXiv",
        "doi": "10.31223/X5K61Q",
        "pages": None,
        "type": "preprint",
    },
    "job_posting.json": {
        "title": "Backend Engineer",
        "company": "Kōhatu Labs",
        "employment_type": "full_time",
        "seniority": "mid",
        "location": {"city": "Austin", "region": "Texas", "country": "United States", "remote": "hybrid"},
        "salary": {"min": 110000, "max": 140000, "currency": "USD", "period": "year"},
        "skills": ["Python", "PostgreSQL"],
    },
}
# One change each that both the file and the model must reject.
BAD: dict[str, list[dict[str, Any]]] = {
    "recipe.json": [{"extra": 1}, {"ingredients": []}, {"cook_time_minutes": "45 min"}],
    "invoice.json": [{"currency": "DOGE"}, {"vendor": {"name": "x"}}, {"line_items": [{"description": "x"}]}],
    "citation.json": [
        {"doi": "doi:10.1/x"},
        {"type": "thesis"},
        {"authors": [{"family": "X", "given": "Y", "x": 1}]},
    ],
    "job_posting.json": [{"seniority": "guru"}, {"location": {"city": None}}, {"salary": {"min": 1}}],
}


@pytest.mark.parametrize(("name", "model_name"), sorted(PAIRS.items()))
def test_file_and_model_agree_on_instances(models: ModuleType, name: str, model_name: str) -> None:
    model: type[BaseModel] = getattr(models, model_name)
    validator = Draft202012Validator(_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
    good = GOOD[name]
    validator.validate(good)
    dumped = model.model_validate(good).model_dump(mode="json")
    validator.validate(dumped)  # what the model emits, the file accepts
    for change in BAD[name]:
        bad = {**good, **change}
        assert not validator.is_valid(bad), f"schemas/{name} accepted {change}"
        with pytest.raises(ValidationError):
            model.model_validate(bad)


# ---------------------------------------------------------------------------------------------
# Data


def _jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(line)
        assert isinstance(row, dict), f"{path.name}:{n} is not an object"
        rows.append(row)
    return rows


def _check_rows(rows: list[dict[str, Any]], key: str, fields: list[str], where: str) -> list[str]:
    keys = []
    for n, row in enumerate(rows, start=1):
        assert sorted(row) == sorted(fields), f"{where} row {n}: fields {sorted(row)} != {sorted(fields)}"
        for field in fields:
            assert isinstance(row[field], str), f"{where} row {n}: {field} is not a string"
        assert row[key], f"{where} row {n}: empty key"
        keys.append(row[key])
    dupes = {k for k in keys if keys.count(k) > 1}
    assert not dupes, f"{where}: duplicate keys {sorted(dupes)}"
    return keys


def test_recipes() -> None:
    rows = _jsonl(DATA / "recipes.jsonl")
    assert len(rows) >= 80
    keys = _check_rows(rows, "id", ["id", "text"], "recipes.jsonl")
    words = [len(r["text"].split()) for r in rows]
    in_range = sum(40 <= w <= 150 for w in words)
    assert in_range >= 0.9 * len(rows), "most recipes should be 40-150 words"
    assert max(words) > 300, "one deliberately very long row"
    assert min(words) < 10, "one deliberately near-empty row"
    assert "Gran's/pie #2" in keys and "Gran's pie #2" in keys


def test_invoices() -> None:
    with (DATA / "invoices.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["invoice_id", "text"]
        rows = list(reader)
    assert len(rows) >= 50
    _check_rows(rows, "invoice_id", ["invoice_id", "text"], "invoices.csv")
    assert sum("\n" in r["text"] for r in rows) >= 0.9 * len(rows), "invoices are multi-line text"
    assert any("," in r["invoice_id"] for r in rows) and any('"' in r["text"] for r in rows)


def test_papers() -> None:
    files = sorted(p for p in (DATA / "papers").iterdir() if not p.name.startswith("."))
    assert all(p.suffix == ".txt" for p in files), "papers/ holds only .txt inputs"
    assert len(files) >= 40
    stems = [p.stem for p in files]
    assert len(set(stems)) == len(stems)
    assert len({s.casefold() for s in stems}) == len(stems), "stems must not clash on case-insensitive disks"
    for p in files:
        assert p.read_text(encoding="utf-8").strip(), f"{p.name} is empty"


def test_job_postings() -> None:
    rows = _jsonl(DATA / "job_postings.jsonl")
    assert len(rows) >= 40
    _check_rows(rows, "posting_id", ["posting_id", "board", "text"], "job_postings.jsonl")


def test_data_totals_and_awkward_keys() -> None:
    with (DATA / "invoices.csv").open(encoding="utf-8", newline="") as fh:
        invoice_keys = [r["invoice_id"] for r in csv.DictReader(fh)]
    keys = (
        [r["id"] for r in _jsonl(DATA / "recipes.jsonl")]
        + invoice_keys
        + [p.stem for p in (DATA / "papers").glob("*.txt")]
        + [r["posting_id"] for r in _jsonl(DATA / "job_postings.jsonl")]
    )
    assert len(keys) >= 210
    awkward = [k for k in keys if not CUSTOM_ID.match(k)]
    assert len(awkward) >= 8, "the data should exercise the key -> custom_id mapping"
    assert any(len(k) > 64 for k in keys)
    assert any("/" in k for k in keys) and any(" " in k for k in keys)
    assert any(not k.isascii() for k in keys)


def test_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    gen = _load_module("_structbatch_example_data_generate", DATA / "_generate.py")
    gen.generate(tmp_path)
    produced = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(
        p.relative_to(DATA).as_posix()
        for p in DATA.rglob("*")
        if p.is_file() and p.suffix in (".jsonl", ".csv", ".txt")
    )
    assert produced == committed
    for rel in produced:
        assert (tmp_path / rel).read_bytes() == (DATA / rel).read_bytes(), f"{rel} differs from the generator"
