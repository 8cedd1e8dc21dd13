"""Links that listen (TCP JSON lines, the browser viewer) serve this host only unless told otherwise.

Neither has authentication, so opening them to the LAN must be an explicit choice: the
defaults bind loopback, and the risk is spelled out where the option is described.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import tomllib

from gymcorner.config import Config, TcpLinkConfig
from gymcorner.transport import webviewer
from gymcorner.transport.tcp import TcpLinkServer

DEFAULT_TOML = Path(__file__).resolve().parents[1] / "configs" / "default.toml"


def test_an_enabled_tcp_link_listens_on_loopback_by_default() -> None:
    assert Config().links.tcp.bind_host == "127.0.0.1"
    assert tomllib.loads(DEFAULT_TOML.read_text())["links"]["tcp"]["bind_host"] == "127.0.0.1"
    link = TcpLinkServer(TcpLinkConfig(enabled=True, port=0), "corner-listen")
    link.start()
    try:
        assert link.address[0] == "127.0.0.1"
    finally:
        link.close()


def test_the_bind_host_description_names_the_risk_of_binding_wider() -> None:
    description = TcpLinkConfig.model_fields["bind_host"].description or ""
    assert "0.0.0.0" in description and "authentication" in description


def test_the_viewer_serves_loopback_unless_a_host_is_given() -> None:
    parser = argparse.ArgumentParser()
    webviewer.add_parser(parser.add_subparsers())
    args = parser.parse_args(["viewer"])
    assert args.host == "127.0.0.1"
    assert parser.parse_args(["viewer", "--host", "0.0.0.0"]).host == "0.0.0.0"
    server = webviewer.make_server(port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()
