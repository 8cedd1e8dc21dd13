"""VMC output: OSC bundles to a real python-osc receiver on loopback."""

from __future__ import annotations

import threading

from mqtt_helpers import wait_until
from poses import lateral, sample
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

from gymcorner.config import Config, VmcConfig
from gymcorner.pipeline import Pipeline
from gymcorner.transport.vmc import VmcSender


def test_bones_reach_a_vmc_receiver() -> None:
    received: list[tuple[str, tuple]] = []
    lock = threading.Lock()

    def record(address: str, *args: object) -> None:
        with lock:
            received.append((address, args))

    dispatcher = Dispatcher()
    dispatcher.set_default_handler(record)
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sender = VmcSender(VmcConfig(enabled=True, host="127.0.0.1", port=server.server_address[1]))
    try:
        pipeline = Pipeline(Config())
        frame = pipeline.process(sample(lateral(knee_flexion_deg=80), t_s=1.0)).avatar
        sender.publish_avatar(frame)
        wait_until(lambda: any(a == "/VMC/Ext/T" for a, _ in list(received)), 10, "a whole VMC bundle")
    finally:
        sender.close()
        server.shutdown()
        server.server_close()
    bones = {args[0]: args[1:] for address, args in received if address == "/VMC/Ext/Bone/Pos"}
    assert {"Hips", "LeftUpperLeg", "RightLowerLeg", "LeftUpperArm", "Spine"} <= bones.keys()
    qx, qy, qz, qw = bones["LeftUpperLeg"][3:7]
    assert abs(qx * qx + qy * qy + qz * qz + qw * qw - 1.0) < 1e-3  # a unit quaternion
    assert ("/VMC/Ext/OK", (1,)) in received
