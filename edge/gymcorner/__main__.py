"""Entry point: signals are handled here and only here; errors become one line."""

from __future__ import annotations

import os
import signal
import sys
import threading

from gymcorner.errors import GymcornerError


def main(argv: list[str] | None = None) -> int:
    # OpenCV's own warnings (e.g. when probing a file that is not a video) would follow
    # our one-line error; keep its errors only, unless the user asked for more.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C: stop waiting for a clean shutdown
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    from gymcorner.cli import main as cli_main

    try:
        return cli_main(argv, stop)
    except GymcornerError as err:
        print(f"gymcorner: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gymcorner: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
