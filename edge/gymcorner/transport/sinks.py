"""Host links besides MQTT (TCP JSON lines, VMC), fed by the daemon's frame loop.

Why one small fan-out object: the daemon calls four methods per frame and knows nothing of
sockets; each link decides what it needs (VMC only the avatar), and none of them blocks.
Enabled links come from `[links]` in the config; with none enabled this is a no-op.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Protocol

from gymcorner.avatar.codec import AvatarFrame
from gymcorner.config import Config

_log = logging.getLogger(__name__)


class Link(Protocol):
    def publish_status(self, state: str, **fields: Any) -> None: ...
    def publish_feedback(self, event: Mapping[str, Any]) -> None: ...
    def publish_session(self, summary: Mapping[str, Any]) -> None: ...
    def publish_avatar(self, frame: AvatarFrame) -> None: ...
    def close(self) -> None: ...


class HostLinks:
    """Every enabled extra link; each call goes to all of them."""

    def __init__(self, links: list[Link]) -> None:
        self.links = links

    def __bool__(self) -> bool:
        return bool(self.links)

    def publish_status(self, state: str, **fields: Any) -> None:
        for link in self.links:
            link.publish_status(state, **fields)

    def publish_feedback(self, event: Mapping[str, Any]) -> None:
        for link in self.links:
            link.publish_feedback(event)

    def publish_session(self, summary: Mapping[str, Any]) -> None:
        for link in self.links:
            link.publish_session(summary)

    def publish_avatar(self, frame: AvatarFrame) -> None:
        for link in self.links:
            link.publish_avatar(frame)

    def close(self) -> None:
        for link in self.links:
            try:
                link.close()
            except OSError as err:  # closing must not stop the others from closing
                _log.warning("closing %r failed: %s", link, err)


def open_links(config: Config, boot_id: str | None = None) -> HostLinks:
    """Start the links enabled in `config.links` (imports stay lazy: python-osc only with VMC)."""
    links: list[Link] = []
    try:
        if config.links.tcp.enabled:
            from gymcorner.transport.tcp import TcpLinkServer

            server = TcpLinkServer(config.links.tcp, config.device.id, boot_id)
            server.start()
            links.append(server)
        if config.links.vmc.enabled:
            from gymcorner.transport.vmc import VmcSender

            links.append(VmcSender(config.links.vmc))
    except Exception:
        HostLinks(links).close()
        raise
    return HostLinks(links)
