"""Hypothesis strategies for property-based tests of structured-output pipelines.

Everything here produces what Claude and the Message Batches API really send, together with what
it must become::

    from hypothesis import given
    from structbatch.testing import strategies as sbst

    spec = sb.compile(Recipe)

    @given(sbst.model_outputs(spec))
    def test_my_parser_recovers_every_answer(pair):
        sent, value = pair
        assert sent.parse(spec).value == value

Strategies (each documented below with an example):

- `instances(spec_or_model)`: valid values of a spec;
- `model_outputs(spec, styles=...)`: `(Sent, value)` — an answer the model may give, and its value;
- `broken_outputs(spec, kinds=...)`: `(Sent, FailureKind)` — an answer that must be rejected;
- `result_lines(spec, types=...)`: `ResultLine(line, kind, value)` — batch result lines;
- `batch_requests(spec, ...)`: request lists the batch API accepts;
- `object_schemas()`: random JSON Schemas that `structbatch.compile` accepts.

This module imports `hypothesis` (the `structbatch[testing]` extra); `import structbatch` never does.
"""

from __future__ import annotations

# The strategies live in small modules, one job each (this module only gathers them):
#   _messages        Sent and the API-shaped message dicts every answer is built from
#   _oracle          as_spec, valid: specs from anything, and the independent validity oracle
#   _instances       instances, json_values: valid values walked out of a JSON Schema
#   _rendering       how a model writes a value in text (styles, phrases, lossless noise)
#   _model_outputs   good answers and the values they mean
#   _broken_outputs  answers that must be rejected and the FailureKind each must get
#   _batch_api       batch request lists and result lines
#   _schemas         random JSON Schemas that compile
from ._batch_api import CUSTOM_IDS as CUSTOM_IDS
from ._batch_api import ERROR_TYPES, RESULT_TYPES, ResultLine, batch_requests, result_lines
from ._broken_outputs import BROKEN_KINDS, BrokenOutput, broken_outputs
from ._instances import INT64 as INT64
from ._instances import JSON as JSON
from ._instances import instances, json_values
from ._messages import Sent
from ._model_outputs import ModelOutput, model_outputs
from ._oracle import as_spec, valid
from ._rendering import NOISE_KINDS as NOISE_KINDS
from ._rendering import STYLES
from ._rendering import has_elision_like as _has_elision_like  # noqa: F401  (tests/test_properties.py)
from ._schemas import object_schemas

__all__ = [
    "BROKEN_KINDS",
    "ERROR_TYPES",
    "RESULT_TYPES",
    "STYLES",
    "BrokenOutput",
    "ModelOutput",
    "ResultLine",
    "Sent",
    "as_spec",
    "batch_requests",
    "broken_outputs",
    "instances",
    "json_values",
    "model_outputs",
    "object_schemas",
    "result_lines",
    "valid",
]
