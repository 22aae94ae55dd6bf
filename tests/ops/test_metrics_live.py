"""The real ``passgate serve --workers 2``: each worker counts the requests it served in its own file under
``<data dir>/prometheus`` (multiprocess mode), and ``/metrics`` on any worker answers the sum; /readyz is ready."""

from __future__ import annotations

import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from prometheus_client.mmap_dict import MmapedDict

from tests.processes import serving

TOKEN = "live-metrics-token-" + "x" * 24
REQUESTS = 60


def _graph_4xx_per_file(directory: Path) -> Counter[str]:
    """Each counter file's passgate_graph_requests_total{status_class="4xx"} (file names carry the writer's pid)."""
    found: Counter[str] = Counter()
    for path in directory.glob("counter_*.db"):
        for key, value, _, _ in MmapedDict.read_all_values_from_file(str(path)):
            _, sample, labels, _ = json.loads(key)
            if sample == "passgate_graph_requests_total" and labels == {"status_class": "4xx"}:
                found[path.name] += value
    return found


def _scrape(origin: str) -> float:
    answer = requests.get(f"{origin}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    found = re.search(r'^passgate_graph_requests_total\{status_class="4xx"\} (\S+)$', answer.text, re.M)
    return float(found.group(1)) if found else 0.0


def test_every_worker_counts_and_metrics_on_any_worker_adds_them_up(tmp_path: Path) -> None:
    with serving(tmp_path, "metrics", workers=2, PASSGATE_METRICS_TOKEN=TOKEN) as running:
        origin = str(running["origin"])
        ready = requests.get(f"{origin}/readyz", timeout=30)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "signing_keys": "ok", "mds": "not configured"}
        assert requests.get(f"{origin}/metrics", timeout=30).status_code == 401
        assert _scrape(origin) == 0.0

        def unauthenticated(_: int) -> int:  # a new connection each time: either worker may take it
            return requests.get(f"{origin}/v1.0/users", headers={"Connection": "close"}, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(unauthenticated, range(REQUESTS)))
        assert statuses == [401] * REQUESTS

        per_file = _graph_4xx_per_file(tmp_path / "data" / "prometheus")
        assert len([n for n, v in per_file.items() if v > 0]) == 2, per_file  # both workers served some
        assert sum(per_file.values()) == REQUESTS
        for _ in range(6):  # whichever worker answers the scrape, it reports the sum of both
            assert _scrape(origin) == REQUESTS
