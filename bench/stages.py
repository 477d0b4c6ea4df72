"""Where a request's time to decision goes: the workers' `bookings_decide_stage_seconds`
histograms, read from the API's /metrics (it adds up every process on the host) before
and after a scenario, as quantiles of the difference.

Stages (models/metrics.DECIDE_STAGE): broker (a message's send to its pickup), queued
(acceptance to the pickup of the message that decided it), lock, decide, commit.
"""

from __future__ import annotations

import re
import urllib.request
from collections import defaultdict

STAGES = ("broker", "queued", "lock", "decide", "commit")
_BUCKET = re.compile(r"^bookings_decide_stage_seconds_bucket\{([^}]*)\} (\S+)$", re.M)

Buckets = dict[str, dict[float, float]]  # stage -> upper bound (s) -> cumulative count


def scrape(base_url: str) -> Buckets:
    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    found: Buckets = defaultdict(dict)
    for labels, value in _BUCKET.findall(text):
        parts = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        le = float("inf") if parts["le"] == "+Inf" else float(parts["le"])
        stage = parts["stage"]
        found[stage][le] = found[stage].get(le, 0.0) + float(value)  # one series per process
    return found


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """histogram_quantile over (upper bound, cumulative count), linear within a bucket."""
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            inside = count - below
            return lower + (upper - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = upper, count
    return lower


def between(before: Buckets, after: Buckets) -> dict[str, dict[str, float | None]]:
    """Each stage's count and p50/p90/p99 (ms) of what was observed between two scrapes."""
    out: dict[str, dict[str, float | None]] = {}
    for stage in STAGES:
        now, then = after.get(stage, {}), before.get(stage, {})
        diff = sorted((le, now[le] - then.get(le, 0.0)) for le in now)
        n = diff[-1][1] if diff else 0.0
        out[stage] = {"n": n} | {
            f"p{int(q * 100)}_ms": _ms(quantile(diff, q)) for q in (0.5, 0.9, 0.99)
        }
    return out


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)
