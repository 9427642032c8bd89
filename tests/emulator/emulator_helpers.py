"""Helpers for the emulator suite: request builders, raw HTTP, and an exact-shape check of wire
objects against the SDK's own pydantic types."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from pydantic import BaseModel

from structbatch.emulator import Emulator, Limits

MODEL = "claude-haiku-4-5"
SMALL = Limits(max_requests=5, max_batch_bytes=20_000, max_message_bytes=20_000)


def params(text: str = "Extract the recipe.", **extra: Any) -> dict[str, Any]:
    """Minimal valid Messages params."""
    return {"model": MODEL, "max_tokens": 400, "messages": [{"role": "user", "content": text}], **extra}


def request(custom_id: str, **extra: Any) -> dict[str, Any]:
    return {"custom_id": custom_id, "params": params(**extra)}


RECIPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "servings": {"type": "integer"},
        "ingredients": {"type": "array", "items": {"$ref": "#/$defs/Ingredient"}},
    },
    "required": ["title", "servings", "ingredients"],
    "additionalProperties": False,
    "$defs": {
        "Ingredient": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "grams": {"type": ["number", "null"]}},
            "required": ["name", "grams"],
            "additionalProperties": False,
        }
    },
}
RECIPE_TOOL: dict[str, Any] = {
    "name": "record_recipe",
    "description": "Record it.",
    "input_schema": RECIPE_SCHEMA,
}


def raw(
    emu: Emulator,
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    api_key: str | None = "sk-emu-test0000",
    version: str | None = "2023-06-01",
) -> tuple[int, dict[str, str], Any]:
    """One HTTP call without the SDK: status, lower-cased headers, parsed JSON (or bytes)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(emu.base_url + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if api_key is not None:
        req.add_header("x-api-key", api_key)
    if version is not None:
        req.add_header("anthropic-version", version)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status, head, payload = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, head, payload = error.code, dict(error.headers), error.read()
    head = {k.lower(): v for k, v in head.items()}
    try:
        return status, head, json.loads(payload)
    except ValueError:
        return status, head, payload


def assert_exact(model: type[BaseModel] | Any, data: Any) -> Any:
    """Validate `data` with the SDK type and require every field present and none unknown, recursively."""
    adapter_obj = model.model_validate(data) if isinstance(model, type) else model.validate_python(data)
    _walk(adapter_obj, data, type(adapter_obj).__name__)
    return adapter_obj


def _walk(obj: Any, data: Any, where: str) -> None:
    if isinstance(obj, BaseModel):
        assert isinstance(data, dict), where
        fields = set(type(obj).model_fields)
        missing, extra = fields - set(data), set(data) - fields
        assert not missing and not extra, f"{where}: missing {sorted(missing)}, unknown {sorted(extra)}"
        for name in fields:
            _walk(getattr(obj, name), data[name], f"{where}.{name}")
    elif isinstance(obj, list):
        assert isinstance(data, list) and len(obj) == len(data), where
        for index, (item, raw_item) in enumerate(zip(obj, data, strict=True)):
            _walk(item, raw_item, f"{where}[{index}]")
