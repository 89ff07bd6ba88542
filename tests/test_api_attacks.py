"""The API attack suite (tests/api_attacks.py) against the real server: every attack gets the reply it must get."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_attacks import run_attacks, table  # noqa: E402


def test_every_attack_is_refused_as_expected():
    outcomes = run_attacks(verbose=False)
    assert len(outcomes) >= 40
    assert all(o.ok for o in outcomes), "\n" + table(outcomes)
    names = {o.name for o in outcomes}
    assert {"truncated multipart (no closing boundary)", "brute force wrong tokens", "Host header spoofing",
            "slow headers (stalled)", "slow body (stalled)", "50 concurrent uploads", "/openapi.json hidden"} <= names
    assert sum(o.seconds for o in outcomes) < 45
