"""Start-up fails loudly and leaves nothing open: every step is released by the one ExitStack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from shared_data import clip_path

import gymcorner.app as app_module
from gymcorner.app import App
from gymcorner.config import load_config
from gymcorner.errors import ConfigError

CLIP = "kaiakol_exercises/squat/incorrect/squat_incorrect_003.mp4"


def tracked(factory: Any, name: str, closed: list[str]) -> Any:
    def make(*args: Any, **kwargs: Any) -> Any:
        thing = factory(*args, **kwargs)
        close = thing.close
        thing.close = lambda *a, **k: (closed.append(name), close(*a, **k))[1]
        return thing

    return make


def test_a_sink_that_fails_to_start_releases_the_camera_and_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(
        None,
        overrides={
            "source.uri": str(clip_path(CLIP)),
            "gpio.enabled": False,
            "mqtt.tls": True,
            "mqtt.ca_file": str(tmp_path / "missing-ca.pem"),  # the MQTT sink cannot start
        },
    )
    closed: list[str] = []
    monkeypatch.setattr(app_module, "open_source", tracked(app_module.open_source, "source", closed))
    monkeypatch.setattr(app_module, "create_estimator", tracked(app_module.create_estimator, "estimator", closed))
    app = App(config)
    with pytest.raises(ConfigError, match=r"mqtt\.ca_file"):
        app.start()
    assert closed == ["estimator", "source"]  # released in reverse order of opening
    assert not app.sinks  # nothing half-started is left to publish to


def test_a_taken_tcp_port_releases_the_mqtt_client_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = load_config(
            None,
            overrides={
                "source.uri": str(clip_path(CLIP)),
                "gpio.enabled": False,
                "mqtt.host": "127.0.0.1",
                "mqtt.port": 1,  # nothing listens: the client keeps retrying in the background
                "links.tcp.enabled": True,
                "links.tcp.port": taken.getsockname()[1],
            },
        )
        closed: list[str] = []
        from gymcorner.transport import mqtt_process

        # the daemon's MQTT client runs in its own process ([mqtt] own_process, the default)
        monkeypatch.setattr(mqtt_process, "MqttProcess", tracked(mqtt_process.MqttProcess, "mqtt", closed))
        monkeypatch.setattr(app_module, "open_source", tracked(app_module.open_source, "source", closed))
        app = App(config)
        with pytest.raises(ConfigError, match=r"links\.tcp"):
            app.start()
    assert closed == ["mqtt", "source"]
