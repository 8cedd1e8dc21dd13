"""Loading the site file that calibration writes, on top of the main config.

Why a second file rather than editing the owner's config: calibration runs unattended
(a long press, systemd's ExecStartPre) and must never rewrite a file a person edits. The
site file is validated on its own first, so an error names it and its key, then applied
as dotted overrides of the main file. A missing site file is normal (not calibrated yet).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from gymcorner.config import Config, load_config, parse_config, read_toml

_log = logging.getLogger(__name__)


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and key != "messages":  # coach.messages is a table of its own
            out.update(_flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def load_with_site(config_path: str | Path | None, site_path: str | Path) -> Config:
    """The main config (or defaults) with the site file's keys laid over it."""
    site = Path(site_path)
    if not site.is_file():
        _log.info("no site calibration at %s (run `gymcorner calibrate`); using the config as is", site)
        return load_config(config_path)
    data = read_toml(site, "site calibration")
    parse_config(data, str(site))  # errors name the site file and its key
    return load_config(config_path, overrides=_flatten(data))
