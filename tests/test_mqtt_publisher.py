"""MqttPublisher against a real Mosquitto: status and will, feedback delivery, avatar dropping.

Scenarios where a subscriber could otherwise connect after the publisher (broker down at
start, broker restart) use a broker with persistence and a durable subscriber session
(clean_session=False): the broker queues for it whichever client reconnects first, which is
also how a subscriber that must not miss feedback is meant to connect (docs/protocol.md).
"""

from __future__ import annotations

import logging
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from mqtt_helpers import MosquittoBroker, MqttSubscriber, wait_until

from gymcorner.config import MqttConfig
from gymcorner.errors import ConfigError
from gymcorner.transport.mqtt import MqttPublisher, Topics

pytestmark = pytest.mark.broker

EDGE_DIR = Path(__file__).resolve().parents[1] / "edge"
DEVICE = "corner-test"
TOPICS = Topics.for_device("gymcorner", DEVICE)

PublisherFactory = Callable[..., MqttPublisher]


@pytest.fixture
def make_publisher() -> Iterator[PublisherFactory]:
    """Publishers with fast reconnects, closed at teardown."""
    made: list[MqttPublisher] = []

    def make(port: int, device_id: str = DEVICE, **overrides: Any) -> MqttPublisher:
        options: dict[str, Any] = dict(
            host="127.0.0.1", port=port, reconnect_min_delay_s=0.05, reconnect_max_delay_s=0.5, password_env=None
        )
        options.update(overrides)
        publisher = MqttPublisher(MqttConfig(**options), device_id)
        made.append(publisher)
        return publisher

    yield make
    for publisher in made:
        publisher.close(timeout_s=2.0)


def connected(publisher: MqttPublisher) -> Callable[[], bool]:
    return lambda: bool(publisher.stats()["connected"])


def feedback_ids(subscriber: MqttSubscriber) -> Counter[str]:
    return Counter(m.json()["id"] for m in subscriber.messages(TOPICS.feedback))


def durable_subscriber(broker: MosquittoBroker, topic: str, name: str = "durable-sub") -> MqttSubscriber:
    return MqttSubscriber(broker.host, broker.port, topic, client_id=name, clean_session=False, qos=1)


# ------------------------------------------------------------------------ status


def test_status_is_retained_online_then_offline_on_close(mosquitto_broker, make_publisher) -> None:
    publisher = make_publisher(mosquitto_broker.port)
    publisher.start()
    wait_until(connected(publisher), what="publisher connected")

    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.status) as late:
        online = late.wait_for_messages(TOPICS.status, 1)[0]
        assert online.retain, "status must be retained so late subscribers learn it"
        assert online.json() == {"v": 1, "state": "online", "device": DEVICE, "boot": publisher.boot_id}

        publisher.close()
        offline = late.wait_for_json(TOPICS.status, lambda s: s["state"] == "offline")
        assert offline["detail"] == "shutdown"
    assert publisher.stats()["connected"] is False

    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.status) as later:
        retained = later.wait_for_messages(TOPICS.status, 1)[0]
        assert retained.retain and retained.json()["state"] == "offline"


def test_status_fields_are_republished_after_a_broker_restart(mosquitto_broker, make_publisher) -> None:
    publisher = make_publisher(mosquitto_broker.port)
    publisher.start()
    publisher.publish_status("online", detail="camera lost")
    wait_until(connected(publisher), what="publisher connected")

    mosquitto_broker.stop()  # no persistence: the retained status is forgotten
    wait_until(lambda: not publisher.stats()["connected"], what="publisher to notice the outage")
    mosquitto_broker.start()
    wait_until(lambda: publisher.stats()["reconnects"] >= 1, what="publisher reconnected")

    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.status) as subscriber:
        status = subscriber.wait_for_json(TOPICS.status, lambda s: True)
    assert status["state"] == "online" and status["detail"] == "camera lost"


def test_status_rejects_unknown_states_and_reserved_fields(make_publisher) -> None:
    publisher = make_publisher(1)
    with pytest.raises(ValueError):
        publisher.publish_status("degraded")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        publisher.publish_status("online", device="someone-else")


CHILD_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from gymcorner.config import MqttConfig
    from gymcorner.transport.mqtt import MqttPublisher
    config = MqttConfig(host="127.0.0.1", port=int(sys.argv[1]), password_env=None)
    publisher = MqttPublisher(config, sys.argv[2])
    publisher.start()
    time.sleep(120)  # killed by the test long before
    """
)


def test_last_will_reports_offline_when_the_process_dies(mosquitto_broker) -> None:
    env = {**os.environ, "PYTHONPATH": str(EDGE_DIR)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_SCRIPT, str(mosquitto_broker.port), DEVICE],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.status) as subscriber:
            subscriber.wait_for_json(TOPICS.status, lambda s: s["state"] == "online")
            child.kill()  # SIGKILL: no close(), no DISCONNECT packet
            child.wait(10)
            will = subscriber.wait_for_json(TOPICS.status, lambda s: s["state"] == "offline")
        assert will == {"v": 1, "state": "offline", "device": DEVICE, "boot": will["boot"], "detail": "connection lost"}
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)

    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.status) as later:
        retained = later.wait_for_messages(TOPICS.status, 1)[0]
        assert retained.retain and retained.json()["state"] == "offline"


# ---------------------------------------------------------------------- feedback


def test_feedback_events_arrive_once_each_with_their_ids(mosquitto_broker, make_publisher) -> None:
    publisher = make_publisher(mosquitto_broker.port)
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.feedback) as subscriber:
        publisher.start()
        wait_until(connected(publisher), what="publisher connected")
        returned = []
        for i in range(60):
            event = {"t": i / 30, "code": "knee_valgus", "text": "Push your knees out", "kind": "form"}
            if i % 3 == 0:
                event["id"] = f"caller-{i}"
            returned.append(publisher.publish_feedback(event))
        assert len(set(returned)) == 60
        assert [r for r in returned if r.startswith("caller-")] == [f"caller-{i}" for i in range(0, 60, 3)]
        assert all(r.startswith(f"{DEVICE}-{publisher.boot_id}-") for r in returned if not r.startswith("caller-"))

        wait_until(lambda: len(feedback_ids(subscriber)) == 60, what="60 distinct feedback ids")
        publisher.close()  # flushes; nothing more may arrive
        counts = feedback_ids(subscriber)
    assert counts == Counter(returned), "each event exactly once while the broker stays up"
    first = subscriber.messages(TOPICS.feedback)[0].json()
    assert first["v"] == 1 and first["device"] == DEVICE and first["code"] == "knee_valgus"
    stats = publisher.stats()
    assert (stats["feedback_sent"], stats["feedback_pending"], stats["feedback_dropped"]) == (60, 0, 0)


def test_broker_down_at_start_then_every_event_is_delivered(mosquitto_factory, make_publisher) -> None:
    broker = mosquitto_factory(persistence=True)
    broker.start()
    durable_subscriber(broker, TOPICS.feedback).start().stop()  # the broker now keeps a session for it
    broker.stop()

    publisher = make_publisher(broker.port)
    publisher.start()  # returns at once although nothing listens on the port
    returned = [publisher.publish_feedback({"code": "rep", "kind": "rep", "n": i}) for i in range(40)]
    stats = publisher.stats()
    assert stats["connected"] is False and stats["feedback_pending"] == 40

    broker.start()  # paho must retry the failed FIRST connect by itself
    wait_until(lambda: publisher.stats()["feedback_pending"] == 0, what="queued events handed over and acked")
    with durable_subscriber(broker, TOPICS.feedback) as subscriber:
        wait_until(lambda: set(feedback_ids(subscriber)) == set(returned), what="all 40 queued events")
    assert publisher.stats()["feedback_dropped"] == 0


def test_broker_restart_mid_run_loses_no_event(mosquitto_factory, make_publisher) -> None:
    broker = mosquitto_factory(persistence=True)
    broker.start()
    with durable_subscriber(broker, TOPICS.feedback) as subscriber:
        publisher = make_publisher(broker.port)
        publisher.start()
        before = [publisher.publish_feedback({"code": "before", "n": i}) for i in range(10)]
        wait_until(lambda: set(before) <= set(feedback_ids(subscriber)), what="events before the outage")

        broker.stop()
        wait_until(lambda: not publisher.stats()["connected"], what="publisher to notice the outage")
        during = [publisher.publish_feedback({"code": "during", "n": i}) for i in range(25)]
        assert publisher.stats()["feedback_pending"] == 25
        broker.start()

        wait_until(lambda: set(before + during) <= set(feedback_ids(subscriber)), what="events from the outage")
    # At least once: a duplicate is allowed (it would carry the same id), a loss is not.
    assert set(feedback_ids(subscriber)) == set(before + during)
    stats = publisher.stats()
    assert stats["feedback_dropped"] == 0 and stats["reconnects"] >= 1


def test_feedback_queue_overflow_drops_oldest_and_counts(make_publisher) -> None:
    publisher = make_publisher(1, feedback_queue_events=10)  # never started: all stay queued
    ids = [publisher.publish_feedback({"code": "x", "n": i}) for i in range(15)]
    stats = publisher.stats()
    assert (stats["feedback_pending"], stats["feedback_dropped"]) == (10, 5)
    assert ids[-1].endswith("-15")


def test_feedback_refuses_non_json_values(make_publisher) -> None:
    publisher = make_publisher(1)
    with pytest.raises(ValueError):
        publisher.publish_feedback({"code": "x", "details": {"angle_deg": float("nan")}})
    with pytest.raises(ValueError):
        publisher.publish_feedback({"code": "x", "id": ""})
    assert publisher.stats()["feedback_pending"] == 0


# ------------------------------------------------------------------------ avatar


def frame(index: int, size_bytes: int = 8) -> bytes:
    return struct.pack("<I", index) + bytes(size_bytes - 4)


def frame_index(payload: bytes) -> int:
    return int(struct.unpack_from("<I", payload)[0])


def test_avatar_keeps_only_the_newest_frames_while_disconnected(mosquitto_factory, make_publisher) -> None:
    broker = mosquitto_factory(persistence=True, extra_config=("queue_qos0_messages true",))
    broker.start()
    durable_subscriber(broker, TOPICS.avatar, "avatar-sub").start().stop()
    broker.stop()

    publisher = make_publisher(broker.port, avatar_queue_frames=8)
    publisher.start()
    for i in range(100):
        publisher.publish_avatar(frame(i))
    stats = publisher.stats()
    assert (stats["avatar_dropped"], stats["avatar_queued"]) == (92, 8)

    broker.start()
    wait_until(lambda: publisher.stats()["avatar_sent"] == 8, what="the 8 queued frames sent")
    with durable_subscriber(broker, TOPICS.avatar, "avatar-sub") as subscriber:
        received = subscriber.wait_for_messages(TOPICS.avatar, 8)
    assert [frame_index(m.payload) for m in received] == list(range(92, 100))
    stats = publisher.stats()
    assert stats["avatar_sent"] + stats["avatar_dropped"] == 100


def test_avatar_drops_oldest_under_back_pressure(mosquitto_broker, make_publisher) -> None:
    frame_bytes = 64 * 1024
    count = 600  # ~38 MiB: more than the loopback socket buffers hold
    with MqttSubscriber(mosquitto_broker.host, mosquitto_broker.port, TOPICS.avatar, qos=0) as subscriber:
        publisher = make_publisher(mosquitto_broker.port, avatar_queue_frames=8)
        publisher.start()
        wait_until(connected(publisher), what="publisher connected")
        mosquitto_broker.pause()  # stops reading: the publisher's socket fills up
        try:
            for i in range(count):
                publisher.publish_avatar(frame(i, frame_bytes))
            assert publisher.stats()["avatar_dropped"] > 0
        finally:
            mosquitto_broker.resume()
        wait_until(
            lambda: publisher.stats()["avatar_sent"] + publisher.stats()["avatar_dropped"] == count,
            what="every frame sent or counted as dropped",
        )
        wait_until(
            lambda: any(frame_index(m.payload) == count - 1 for m in subscriber.messages()), what="the newest frame"
        )
        indices = [frame_index(m.payload) for m in subscriber.messages()]
    assert indices == sorted(indices) and len(set(indices)) == len(indices), "in order, never twice"
    assert len(indices) <= publisher.stats()["avatar_sent"] < count


def test_frames_stuck_in_a_dead_connection_are_counted_and_the_stream_resumes(mosquitto_factory, make_publisher) -> None:
    """Paho marks the QoS 0 frames still in its socket queue as lost when it reconnects, without
    an on_publish; the publisher must account for them and keep its avatar window open."""
    broker = mosquitto_factory()
    broker.start()
    publisher = make_publisher(broker.port, avatar_queue_frames=8)
    publisher.start()
    wait_until(connected(publisher), what="publisher connected")
    broker.pause()  # stops reading: frames pile up in the publisher's socket and in paho
    for i in range(300):
        publisher.publish_avatar(frame(i, 64 * 1024))
    broker.resume()
    broker.stop()  # the connection dies with frames still queued in paho
    broker.start()
    wait_until(connected(publisher), what="publisher reconnected")
    with MqttSubscriber(broker.host, broker.port, TOPICS.avatar, qos=0) as subscriber:
        for i in range(300, 340):
            publisher.publish_avatar(frame(i))
            time.sleep(0.01)
        wait_until(lambda: any(frame_index(m.payload) == 339 for m in subscriber.messages()), what="frames after it")
    wait_until(
        lambda: publisher.stats()["avatar_sent"] + publisher.stats()["avatar_dropped"] == 340,
        what="every frame sent or counted as dropped",
    )


# ------------------------------------------------------------ credentials, start-up


@pytest.mark.parametrize("source", ["file", "env"])
def test_password_from_file_or_env_is_used_but_never_logged(
    source, mosquitto_factory, make_publisher, tmp_path, monkeypatch, caplog
) -> None:
    secret = "s3cret-Pa55word-xyz"
    broker = mosquitto_factory(users={"coach": secret})
    broker.start()
    if source == "file":
        password_file = tmp_path / "mqtt-password"
        password_file.write_text(secret + "\n")
        options: dict[str, Any] = {"password_file": password_file}
    else:
        monkeypatch.setenv("GYMCORNER_TEST_MQTT_PASSWORD", secret)
        options = {"password_env": "GYMCORNER_TEST_MQTT_PASSWORD"}

    caplog.set_level(logging.DEBUG)
    publisher = make_publisher(broker.port, username="coach", **options)
    publisher.start()
    wait_until(connected(publisher), what="authenticated connection")  # the password reached the broker
    publisher.publish_feedback({"code": "x"})
    wait_until(lambda: publisher.stats()["feedback_sent"] == 1, what="feedback acked")
    publisher.close()

    assert "MQTT connected" in caplog.text
    assert secret not in caplog.text
    assert secret not in repr(publisher) and secret not in str(publisher.stats())


def test_wrong_password_is_reported_once_and_not_logged(mosquitto_factory, make_publisher, caplog) -> None:
    broker = mosquitto_factory(users={"coach": "right-password"})
    broker.start()
    caplog.set_level(logging.DEBUG)
    publisher = make_publisher(broker.port, username="coach", password="wrong-password-123")
    publisher.start()
    wait_until(lambda: "refused the connection" in caplog.text, what="the refusal to be logged")
    assert publisher.stats()["connected"] is False
    assert "wrong-password-123" not in caplog.text
    refusals = [r for r in caplog.records if "refused" in r.getMessage() and r.levelno >= logging.WARNING]
    assert len(refusals) == 1, "one line per outage, not one per retry"


def test_invalid_host_name_fails_at_start(make_publisher) -> None:
    with pytest.raises(ConfigError, match=r"mqtt\.host"):
        make_publisher(1883, host="a" * 70 + ".example")


def test_network_thread_killed_by_an_unexpected_error_is_restarted(
    mosquitto_broker, make_publisher, monkeypatch
) -> None:
    """Paho retries OSError only; anything else raised while connecting ends its thread."""
    import paho.mqtt.client as paho_client

    real_create_connection = paho_client.socket.create_connection
    failures = []

    def fail_once(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise RuntimeError("injected fault")
        return real_create_connection(*args, **kwargs)

    monkeypatch.setattr(paho_client.socket, "create_connection", fail_once)
    monkeypatch.setattr("threading.excepthook", lambda _args: None)  # the injected fault is expected
    publisher = make_publisher(mosquitto_broker.port)
    publisher.start()
    wait_until(connected(publisher), what="connection after the network thread was restarted")
    assert failures == [1]


def test_unresolvable_broker_neither_blocks_start_nor_close(make_publisher) -> None:
    publisher = make_publisher(1883, host="broker.invalid")
    publisher.start()
    publisher.publish_feedback({"code": "x"})
    publisher.publish_avatar(b"frame")
    assert publisher.stats()["connected"] is False
    publisher.close(timeout_s=1.0)
    assert publisher.stats()["feedback_pending"] == 1


# --------------------------------------------------------------------------- TLS


def make_test_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 (CA file, cert, key)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl binary not found (needed to make test certificates)")
    directory.mkdir(parents=True, exist_ok=True)
    ca_pem, ca_key = directory / "ca.pem", directory / "ca.key"
    server_pem, server_key, csr = directory / "server.pem", directory / "server.key", directory / "server.csr"
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *args: subprocess.run([openssl, *args], check=True, capture_output=True)  # noqa: E731
    run(
        "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca_pem), "-days", "2", "-subj", "/CN=gymcorner test CA"
    )
    run("req", *ec, "-keyout", str(server_key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    run(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_pem),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(server_pem),
        "-days",
        "2",
        "-extfile",
        str(directory / "san.ext"),
    )
    return ca_pem, server_pem, server_key


def test_tls_with_a_ca_file_connects_and_delivers(mosquitto_factory, make_publisher, tmp_path) -> None:
    ca_pem, server_pem, server_key = make_test_ca(tmp_path / "pki")
    broker = mosquitto_factory(extra_config=(f"cafile {ca_pem}", f"certfile {server_pem}", f"keyfile {server_key}"))
    broker.start()
    publisher = make_publisher(broker.port, tls=True, ca_file=ca_pem)
    publisher.start()
    publisher.publish_feedback({"code": "x"})
    wait_until(lambda: publisher.stats()["feedback_sent"] == 1, what="feedback acked over TLS")


def test_tls_with_an_untrusted_server_never_connects(mosquitto_factory, make_publisher, tmp_path, caplog) -> None:
    _, server_pem, server_key = make_test_ca(tmp_path / "server-pki")
    other_ca, _, _ = make_test_ca(tmp_path / "other-pki")
    broker = mosquitto_factory(extra_config=(f"cafile {other_ca}", f"certfile {server_pem}", f"keyfile {server_key}"))
    broker.start()
    publisher = make_publisher(broker.port, tls=True, ca_file=other_ca)
    publisher.start()
    wait_until(lambda: "unreachable" in caplog.text, what="the failed handshake to be reported")
    assert publisher.stats()["connected"] is False


def test_tls_with_a_missing_ca_file_fails_at_start(make_publisher, tmp_path) -> None:
    with pytest.raises(ConfigError, match="ca_file"):
        make_publisher(8883, tls=True, ca_file=tmp_path / "missing.pem")
