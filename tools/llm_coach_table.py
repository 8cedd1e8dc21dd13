"""The LLM coach's behaviour against a healthy, slow, failing and down server.

Runs the coach (gymcorner.motivation.llm) against the tests' local OpenAI-compatible streaming
server (tests/llm_server.py) in each mode and prints what was published and how fast.
The "slow" server holds its stream past the hard timeout; "down" is a closed port.

    .venv/bin/python tools/llm_coach_table.py [--timeout-s 2] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from llm_server import FakeChatServer, closed_port_url

from gymcorner.motivation.llm import ChatSettings, LlmCoach
from gymcorner.motivation.prompt import CoachMoment

MOMENT = CoachMoment(t=12.0, trigger="rep_fault", rep=5, faults=("knee_valgus",), cue="Push your knees out.")


def measure(url: str, timeout_s: float, repeat: int) -> tuple[str, str, list[float]]:
    latencies: list[float] = []
    text = source = ""
    for _ in range(repeat):
        coach = LlmCoach(ChatSettings(url, "llama3.2:3b", timeout_s), min_interval_s=0.0)
        coach.submit(MOMENT)
        event = coach.wait_event(timeout_s + 10)
        coach.close()
        assert event is not None, "nothing published"
        latencies.append(event.details["latency_ms"])
        text = event.text
        source = event.details["source"] + (f" ({event.details['error']})" if "error" in event.details else "")
    return source, text, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout-s", type=float, default=2.0, help="llm.timeout_s for the run")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"| server | published | source | latency ms (median, max of {args.repeat}) |")
    print("|---|---|---|---|")
    for mode in ("ok", "slow", "error500", "malformed", "cut", "down"):
        if mode == "down":
            source, text, lat = measure(closed_port_url(), args.timeout_s, args.repeat)
        else:
            with FakeChatServer() as server:
                server.mode = mode
                source, text, lat = measure(server.base_url, args.timeout_s, args.repeat)
        print(f"| {mode} | {text} | {source} | {statistics.median(lat):.1f}, {max(lat):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
