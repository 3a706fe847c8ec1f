"""What a body hands ``slo_request``: stage names and ``record_stage``'s stamps are checked where
they are given, in the project's words (``recorder.Request``)."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from pytest_gpuslo.errors import InvalidArgument
from pytest_gpuslo.recorder import Recorder, Request


@pytest.mark.parametrize(("call", "said"), [
    (lambda r: r.record_stage(None, 1, 2), "stage name None: a stage is named by a non-empty str"),
    (lambda r: r.record_stage("a\nb\x1b[31m", 1, 2), "stage name 'a\\nb\\x1b[31m'"),
    (lambda r: r.stage("a\rb"), "stage name 'a\\rb': a stage is named by a non-empty str of one line;"),
    (lambda r: r.stage("a\nb"), "stage name 'a\\nb'"),
    (lambda r: r.stage(""), "stage name ''"),
    (lambda r: r.stage("x" * 201), "(201 characters): a stage name is a label of at most 200 characters"),
    (lambda r: r.record_stage("admission", 1, 2), "the report keeps that name for the wait for a free lane"),
    (lambda r: r.record_stage("back", 5_000_000, 1_000), "the stage ends 5 ms before it begins"),
    (lambda r: r.record_stage("x", 10**30, -5), "the stamps are time.perf_counter_ns() ints"),
    (lambda r: r.record_stage("x", 1.5, 2), "the stamps are time.perf_counter_ns() ints"),
    (lambda r: r.record_stage("x", 1, 2, workers=-3), "workers=-3): workers is an int of 1 or more"),
    (lambda r: r.record_stage("x", 1, 2, workers=2, batch=0), "batch=0): batch is an int of 1 or more"),
    (lambda r: r.record_stage("x", 1, 2, slept_ns=-1), "slept_ns=-1): slept_ns is an int of 0 or more"),
])
def test_a_stage_s_name_and_stamps_are_checked_where_the_body_gives_them(
        call: Callable[[Request], object], said: str) -> None:
    """review166 F11: a None name crashed the harness after the run, an end before its begin read
    as requests that never left the stage, a newline forged a line of the stage table."""
    rec = Recorder(4)
    with pytest.raises(InvalidArgument, match=re.escape(said)):
        call(Request(1, 1.0, None, rec))
    assert not rec.stages and not rec.pools
    fine = Request(1, 1.0, None, rec)
    fine.record_stage("queue", 10, -1)  # not ended yet, as the batcher writes it
    fine.record_stage("svc.service", np.int64(10), 20, workers=2, batch=4, slept_ns=0)
    assert rec.stages["svc.service"][0][1] == 10 and rec.pools["svc.service"] == (2, 4)
