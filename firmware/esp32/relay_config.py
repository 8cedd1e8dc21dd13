# The relay's settings: defaults, overridden by relay_config.json on the board.

import json

DEFAULTS = {
    "max_straps": 4,
    "addresses": [],  # "AA:BB:CC:DD:EE:FF" (public) or "AA:BB:CC:DD:EE:FF/random"; empty: scan for 0x180D
    "scan_ms": 3000,
    "rescan_ms": 5000,
    "heartbeat_ms": 1000,
    "connect_timeout_ms": 10000,
    "notify_timeout_ms": 3000,
    "reconnect_min_ms": 1000,
    "reconnect_max_ms": 30000,
}


def parse_address(text):
    """(addr_type, 6 bytes) from "AA:BB:CC:DD:EE:FF[/random]"."""
    mac, _, kind = text.partition("/")
    parts = mac.split(":")
    if len(parts) != 6:
        raise ValueError("bad address " + text)
    return (1 if kind == "random" else 0), bytes([int(p, 16) for p in parts])


def load(path="relay_config.json"):
    config = dict(DEFAULTS)
    try:
        with open(path) as f:
            config.update(json.load(f))
    except OSError:
        pass  # no file on the board: defaults
    config["addresses"] = [parse_address(a) for a in config["addresses"]]
    return config
