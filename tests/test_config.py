"""Config: typed, unknown keys rejected, errors that say where and what."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gymcorner.cli import main as cli_main
from gymcorner.config import DEFAULT_CONFIG_PATH, Config, load_config
from gymcorner.errors import ConfigError, Reason


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "site.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_are_valid_and_match_the_shipped_file() -> None:
    shipped = load_config(DEFAULT_CONFIG_PATH)
    assert shipped == Config()


def test_a_good_file_is_loaded(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[device]\nid = "corner-7"\n[coach.squat]\nknee_varus_hold_frames = 12\n'))
    assert cfg.device.id == "corner-7"
    assert cfg.coach.squat.knee_varus_hold_frames == 12
    assert cfg.coach.squat.narrow_stance_hold_frames == 3  # untouched default


def test_unknown_key_names_file_path_and_suggests(tmp_path: Path) -> None:
    p = write(tmp_path, "[coach.squat]\nknee_varus_hold_frame = 12\n")
    with pytest.raises(ConfigError) as info:
        load_config(p)
    msg = str(info.value)
    assert str(p) in msg
    assert "coach.squat.knee_varus_hold_frame" in msg
    assert "did you mean 'coach.squat.knee_varus_hold_frames'?" in msg
    assert info.value.reason is Reason.CONFIG_INVALID


def test_unknown_section_suggests(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"smothing: unknown key; did you mean 'smoothing'\?"):
        load_config(write(tmp_path, "[smothing]\nfilter = 'none'\n"))


@pytest.mark.parametrize(
    ("text", "key", "shown"),
    [
        ("[mqtt]\nport = 70000\n", "mqtt.port", "70000"),
        ("[smoothing]\nfilter = 'kalman'\n", "smoothing.filter", "'kalman'"),
        ("[coach.squat]\nknee_varus_hold_frames = 0\n", "coach.squat.knee_varus_hold_frames", "0"),
        ("[device]\nid = 'has space'\n", "device.id", "'has space'"),
        ("[pose]\nmodel_complexity = 5\n", "pose.model_complexity", "5"),
    ],
)
def test_bad_value_names_key_value_and_expectation(tmp_path: Path, text: str, key: str, shown: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    msg = str(info.value)
    assert f"{key} = {shown}:" in msg
    assert len(msg.split(": ", 2)[-1]) > 5  # says what was expected


def test_hysteresis_band_must_be_ordered(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="lateral_min_yaw_deg must be greater"):
        load_config(write(tmp_path, "[coach.view]\nfrontal_max_yaw_deg = 50\nlateral_min_yaw_deg = 40\n"))


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[device\n"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_password_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "[mqtt]\npassword = 12345\n"))
    assert "12345" not in str(info.value)


def test_password_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    monkeypatch.setenv("GYMCORNER_MQTT_PASSWORD", "from-env")
    assert load_config(write(tmp_path, f"[mqtt]\npassword_file = '{secret}'\n")).mqtt.resolve_password() == "from-file"
    assert load_config(None).mqtt.resolve_password() == "from-env"
    assert "from-file" not in repr(load_config(write(tmp_path, "[mqtt]\npassword = 'from-file'\n")).mqtt)


def test_the_chain_dashboard_s_broker_is_its_own_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """[dashboard.chain_mqtt]: off by default, the broker keys only, its own password variable
    (never the daemon's), and messages that name its keys."""
    assert Config().dashboard.chain_mqtt.enabled is False
    monkeypatch.setenv("GYMCORNER_MQTT_PASSWORD", "the box's")
    monkeypatch.setenv("GYMCORNER_CHAIN_MQTT_PASSWORD", "the chain's")
    text = '[dashboard.chain_mqtt]\nenabled = true\nhost = "mqtt.chain.example"\nport = 8883\ntls = true\n'
    chain = load_config(write(tmp_path, text)).dashboard.chain_mqtt
    mqtt = chain.as_mqtt()
    assert (mqtt.host, mqtt.port, mqtt.tls, mqtt.resolve_password()) == ("mqtt.chain.example", 8883, True, "the chain's")
    for bad, said in (
        ("[dashboard.chain_mqtt]\nhots = 'x'\n", "did you mean 'dashboard.chain_mqtt.host'?"),
        ("[dashboard.chain_mqtt]\nown_process = true\n", "dashboard.chain_mqtt.own_process: unknown key"),
        ("[dashboard.chain_mqtt]\nport = 0\n", "dashboard.chain_mqtt.port = 0: Input should be greater than or equal to 1"),
        ("[dashboard.chain_mqtt]\npassword = 12345\n", "dashboard.chain_mqtt.password = ******"),
    ):
        with pytest.raises(ConfigError) as info:
            load_config(write(tmp_path, bad))
        assert said in str(info.value) and "12345" not in str(info.value)
    unreadable = load_config(write(tmp_path, f"[dashboard.chain_mqtt]\npassword_file = '{tmp_path / 'absent'}'\n"))
    with pytest.raises(ConfigError, match=r"^dashboard\.chain_mqtt\.password_file: cannot read "):
        unreadable.dashboard.chain_mqtt.as_mqtt().resolve_password()


def test_validate_config_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "[device]\nid = 'ok'\n")
    assert cli_main(["run", "--config", str(good), "--validate-config"]) == 0
    assert "config ok" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text("[mqtt]\nprot = 1\n")
    assert cli_main(["run", "--config", str(bad), "--validate-config"]) == 1
    err = capsys.readouterr().err
    assert "mqtt.prot" in err and "did you mean 'mqtt.port'" in err


# ------------------------------------------------ unreadable files, strict types, site files

EDGE_DIR = Path(__file__).resolve().parents[1] / "edge"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(EDGE_DIR))
    return subprocess.run(
        [sys.executable, "-m", "gymcorner", *args], capture_output=True, text=True, timeout=120, env=env
    )


@pytest.mark.parametrize("content", [b"[device]\nid = '\xff\xfe'\n", bytes(range(256)), b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_a_non_utf8_or_binary_file_is_one_clear_line(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "binary.toml"
    bad.write_bytes(content)
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        load_config(bad)
    site = tmp_path / "site.toml"
    site.write_bytes(content)
    for args in (["run", "--config", str(bad), "--validate-config"], ["run", "--site", str(site), "--validate-config"]):
        proc = run_cli(*args)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert "not UTF-8 text" in line


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[source]\nrealtime = "yes"\n', "source.realtime"),
        ('[mqtt]\nport = "1883"\n', "mqtt.port"),
        ("[pose]\nmodel_complexity = true\n", "pose.model_complexity"),
        ('[mqtt]\nkeepalive_s = "30"\n', "mqtt.keepalive_s"),
    ],
)
def test_wrong_types_are_errors_not_coerced(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(write(tmp_path, text))


def test_toml_integers_are_accepted_for_floats_and_strings_for_paths(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, f"[source]\nopen_timeout_s = 5\n[mqtt]\nca_file = '{tmp_path}'\n"))
    assert config.source.open_timeout_s == 5.0 and isinstance(config.source.open_timeout_s, float)
    assert config.mqtt.ca_file == tmp_path


def test_a_site_file_over_a_scalar_section_is_a_clear_error(tmp_path: Path) -> None:
    from gymcorner.calibration.site import load_with_site

    main = tmp_path / "main.toml"
    main.write_text("coach = 5\n")
    site = tmp_path / "site.toml"
    site.write_text("[coach.squat]\nknee_varus_delta_k = 0.6\n")
    with pytest.raises(ConfigError, match=r"coach = 5: expected a table"):
        load_with_site(main, site)
    proc = run_cli("run", "--config", str(main), "--site", str(site), "--validate-config")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "expected a table" in line


def test_every_field_says_what_it_is() -> None:
    """Every setting carries a description: it is what configs/default.toml and errors show."""
    from pydantic import BaseModel

    missing: list[str] = []

    def walk(model: type[BaseModel], path: str) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{path}{name}.")
            elif not field.description:
                missing.append(path + name)

    walk(Config, "")
    assert missing == []


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (3, 1), (4, 2), (8, 4), (64, 4)])
def test_pose_threads_0_means_half_the_cores_this_process_may_use(
    monkeypatch: pytest.MonkeyPatch, cores: int, threads: int
) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(cores)))
    assert Config().pose.num_threads == 0
    assert Config().pose.threads == threads
    assert Config.model_validate({"pose": {"num_threads": 3}}).pose.threads == 3  # a number is taken as it is
