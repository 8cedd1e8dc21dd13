"""Serves the browser avatar viewer from the device: `gymcorner viewer`.

The page is static (HTML, its JavaScript and the vendored three.js/mqtt.js bundle); it
talks to the broker's WebSockets listener itself, so this server only hands out files.
Why a tiny stdlib server: nothing on the device should need a web framework for five files.
Only the viewer's own files are served: no directory listings, nothing outside the folder,
not `node_modules/` (the build inputs).
"""

from __future__ import annotations

import argparse
import functools
import importlib.resources
import logging
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from gymcorner.errors import ConfigError

_log = logging.getLogger(__name__)

# The page ships inside the package (package data), so a non-editable install serves it too;
# its build inputs (package.json, the bundle's entry, the JS tests) stay in host/web/.
VIEWER_DIR = Path(str(importlib.resources.files("gymcorner.transport") / "web"))
_HIDDEN = ("node_modules", "test", "package", "deps.mjs")


class _ViewerHandler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
    }

    def send_head(self) -> Any:
        parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
        if any(p.startswith(_HIDDEN) or p.startswith(".") for p in parts):
            self.send_error(404)
            return None
        return super().send_head()

    def list_directory(self, path: Any) -> Any:
        self.send_error(403, "no listings")
        return None

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("viewer %s - %s", self.address_string(), format % args)


class _ViewerServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that closes the tab or navigates away mid-download hangs up: one debug
        line, not the stdlib's traceback on stderr. Anything else is logged with its trace."""
        err = sys.exc_info()[1]
        if isinstance(err, ConnectionError):
            _log.debug("viewer %s hung up: %s", client_address[0], err)
            return
        _log.exception("viewer: request from %s failed", client_address[0])


def make_server(host: str = "127.0.0.1", port: int = 8080, directory: Path = VIEWER_DIR) -> ThreadingHTTPServer:
    """A bound HTTP server for the viewer (port 0: any free port); call serve_forever()."""
    if not (directory / "index.html").is_file():
        raise ConfigError(
            f"viewer files not found in {directory} (package data of gymcorner.transport: reinstall gymcorner)"
        )
    handler = functools.partial(_ViewerHandler, directory=str(directory))
    try:
        return _ViewerServer((host, port), handler)
    except OSError as err:
        raise ConfigError(f"viewer: cannot listen on {host}:{port}: {err.strerror or err}") from err


def add_parser(sub: Any) -> None:
    viewer = sub.add_parser(
        "viewer",
        help="serve the browser avatar viewer",
        description="Serve the browser avatar viewer over HTTP. Open "
        "http://<device>:PORT/?broker=ws://<broker>:9001&device=<device id>; the page subscribes "
        "to the broker's MQTT WebSockets listener (docs/protocol.md).",
    )
    viewer.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this host only); 0.0.0.0 serves every "
        "interface, without authentication: anyone on the network can open the page",
    )
    viewer.add_argument("--port", type=int, default=8080, help="HTTP port (default 8080)")
    viewer.set_defaults(func=cmd_viewer)


def cmd_viewer(args: argparse.Namespace, stop: threading.Event) -> int:
    server = make_server(args.host, args.port)
    host, port = server.server_address[:2]
    print(f"avatar viewer on http://{host}:{port}/  (add ?broker=ws://HOST:9001&device=ID)", flush=True)
    thread = threading.Thread(target=server.serve_forever, name="gymcorner-viewer", daemon=True)
    thread.start()
    stop.wait()
    server.shutdown()
    server.server_close()
    return 0
