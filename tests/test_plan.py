"""`Job.plan()` equals what submit sends (batch count and body bytes, as the emulator received
them) and says how tokens were estimated; `Job.batches()` is typed."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
from helpers.jobsupport import fast_job

import structbatch as sb
from structbatch.emulator import Emulator


class Recorder(httpx.HTTPTransport):
    """Records the body of every batch create."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/v1/messages/batches"):
            self.bodies.append(request.read())
        return super().handle_request(request)


def test_plan_matches_what_submit_sends(tmp_path: Path) -> None:
    rec = Recorder()
    with Emulator() as emu:
        job = fast_job(
            emu,
            tmp_path / "p.db",
            limits=sb.Limits(max_requests=7),
            system="Be exact.",
            preflight=False,
        )
        job._client = emu.client(http_client=httpx.Client(transport=rec))
        job.add_many([(f"k{i}", f"Text {i} " * (i + 1)) for i in range(20)])
        plan = job.plan(count_tokens=False)
        assert plan.keys == 20 and len(plan.batches) == 3
        assert [b.requests for b in plan.batches] == [7, 7, 6]
        assert plan.token_method.startswith("estimated from") and plan.input_tokens > 0
        assert plan.token_source == "bytes" and plan.as_dict()["token_source"] == "bytes"
        assert plan.input_cost is not None and plan.max_output_tokens == 20 * 1024
        counted = job.plan(count_tokens=True)
        assert counted.token_method.startswith("count_tokens on 5 sample")
        assert counted.token_source == "count_tokens"
        assert emu.call_counts()["count_tokens"] == 5
        job.submit()
        assert [len(b) for b in rec.bodies] == [b.bytes for b in plan.batches]
        assert sum(len(b) for b in rec.bodies) == plan.body_bytes
        assert len(emu.created_batches()) == 3
        job.run()
        infos = job.batches()
        assert [i.batch_id for i in infos] == [b.id for b in emu.created_batches()]
        assert all(i.state == "collected" and i.requests == n for i, n in zip(infos, [7, 7, 6], strict=True))
        assert job.plan().keys == 0 and job.plan().done == 20
        job.close()
