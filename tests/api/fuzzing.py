"""What a fuzzing run counts, printed and kept in benchmarks/results/ for the record."""

import json
import time
from pathlib import Path

from django.db import connection


class Record:
    """Requests sent, server errors, slowest answer of a fuzzing run."""

    def __init__(self):
        self.requests, self.server_errors, self.slowest = 0, [], (0.0, "")

    def add(self, url, status, elapsed):
        self.requests += 1
        if status >= 500:
            self.server_errors.append((url, status))
        if elapsed > self.slowest[0]:
            self.slowest = (elapsed, url[:200])

    def call(self, client, url):
        """GET `url` with the Django test client, recorded."""
        started = time.perf_counter()
        response = client.get(url)
        self.add(url, response.status_code, time.perf_counter() - started)
        return response

    def report(self, name):
        summary = {
            "database": connection.vendor,
            "fuzzer": name,
            "requests": self.requests,
            "server_errors": len(self.server_errors),
            "slowest_seconds": round(self.slowest[0], 3),
            "slowest_request": self.slowest[1],
        }
        folder = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"fuzz-{name}-{connection.vendor}.json").write_text(json.dumps(summary, indent=2))
        print(f"\n{json.dumps(summary, ensure_ascii=False)}")
