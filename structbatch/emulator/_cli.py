"""`structbatch emulator`: serve the emulator until Ctrl-C, for any program that uses the SDK."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._emulator import Emulator, EmulatorConfig
from ._faults import Faults
from ._rates import Rates
from ._validation import Limits


def build_parser(prog: str = "structbatch emulator") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a local Anthropic Messages + Message Batches API on 127.0.0.1.",
        epilog="Point any SDK program at it: ANTHROPIC_BASE_URL=http://127.0.0.1:PORT (any API key works).",
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port to bind on 127.0.0.1 (0 = any free port)"
    )
    parser.add_argument("--latency", type=float, default=2.0, help="seconds until a batch ends (default 2)")
    parser.add_argument("--cancel-latency", type=float, default=0.0, help="seconds a batch stays canceling")
    parser.add_argument("--time-scale", type=float, default=1.0, help="virtual seconds per real second")
    parser.add_argument("--seed", type=int, default=0, help="seed for answers, result order and fault rates")
    parser.add_argument(
        "--faults", default="", metavar="SPEC", help="e.g. create:429x2,retrieve:529@0.1,results:cut"
    )
    parser.add_argument(
        "--rates", default="", metavar="SPEC", help="e.g. errored=0.05:overloaded_error,expired=0.01"
    )
    parser.add_argument("--api-key", default=None, help="accept only this API key (default: any)")
    parser.add_argument("--max-requests", type=int, default=Limits.max_requests, help="requests per batch")
    parser.add_argument(
        "--max-batch-bytes", type=int, default=Limits.max_batch_bytes, help="batch body bytes"
    )
    parser.add_argument(
        "--lenient-models", action="store_true", help="accept unknown model ids instead of 404"
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="keep batches and results in FILE (and FILE.d/) across restarts (default: in memory)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `structbatch emulator [options]`; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        faults = Faults.parse(args.faults, seed=args.seed)
        rates = Rates.parse(args.rates, seed=args.seed) if args.rates else None
    except ValueError as error:
        print(f"structbatch emulator: {error}", file=sys.stderr)
        return 2
    config = EmulatorConfig(
        port=args.port,
        latency=args.latency,
        cancel_latency=args.cancel_latency,
        time_scale=args.time_scale,
        seed=args.seed,
        faults=faults,
        rates=rates,
        api_key=args.api_key,
        strict_models=not args.lenient_models,
        limits=Limits(max_requests=args.max_requests, max_batch_bytes=args.max_batch_bytes),
        state=args.state,
    )
    try:
        emulator = Emulator(config)
    except ValueError as error:  # a state file of another format
        print(f"structbatch emulator: {error}", file=sys.stderr)
        return 2
    try:
        emulator.start()
    except OSError as error:
        print(f"structbatch emulator: cannot bind 127.0.0.1:{args.port}: {error}", file=sys.stderr)
        return 1
    print(f"ANTHROPIC_BASE_URL={emulator.base_url}", flush=True)
    if faults.rules:
        print(f"faults: {','.join(rule.spec() for rule in faults.rules)}", file=sys.stderr, flush=True)
    if args.state is not None:
        kept = len(emulator.created_batches())
        print(f"state: {args.state} ({kept} batches kept)", file=sys.stderr, flush=True)
    print("serving; Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0
