"""VMC output: the avatar's bones as OSC over UDP, the stream VMC receivers understand.

The Virtual Motion Capture protocol (receivers: EVMC4U for Unity, VSeeFace, ...) sends, per
frame, one OSC bundle of `/VMC/Ext/Root/Pos`, one `/VMC/Ext/Bone/Pos` per humanoid bone
(Unity `HumanBodyBones` names) with a position and a quaternion, `/VMC/Ext/T` (time) and
`/VMC/Ext/OK` (tracking state). Units and axes are Unity's, which are the avatar frame's
(docs/avatar-frame.md: +x the person's right, +y up, +z forward, left-handed, metres).

What we map (`vmc_messages`, pure): our bone quaternions are rotations **in the root frame**
from each bone's T-pose direction; VMC wants **local** rotations (relative to the parent
bone) of a model whose rest pose is a T-pose with identity local rotations (VRM's
normalised bones). So a child's local rotation is `inverse(parent) * child`, with the chain
Hips → Spine → {Left,Right}UpperArm → {Left,Right}LowerArm and Hips → {Left,Right}UpperLeg →
{Left,Right}LowerLeg; the head's quantised yaw goes on `Head`, relative to the spine.
Positions are each joint relative to its parent joint, in the root frame, metres: VMC
receivers apply bone rotations and mostly ignore bone positions except the root's.
A frame without a person sends `/VMC/Ext/OK 0` only (the avatar holds its last pose).
"""

from __future__ import annotations

import math
import socket
from collections.abc import Mapping
from typing import Any

import numpy as np
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from gymcorner.avatar.codec import AvatarFrame
from gymcorner.avatar.limbs import Bone
from gymcorner.config import VmcConfig
from gymcorner.motion.geometry import midpoint
from gymcorner.motion.landmarks import Landmark as L

OscMessage = tuple[str, list[Any]]

# VMC bone name -> (our bone, parent bone or None for Hips, joint landmarks, parent joint landmarks)
_HIPS = (L.LEFT_HIP, L.RIGHT_HIP)
_SHOULDERS = (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
BONE_MAP: tuple[tuple[str, Bone, Bone | None, tuple[L, ...], tuple[L, ...]], ...] = (
    ("Spine", Bone.SPINE, None, _HIPS, _HIPS),
    ("LeftUpperArm", Bone.LEFT_UPPER_ARM, Bone.SPINE, (L.LEFT_SHOULDER,), _HIPS),
    ("RightUpperArm", Bone.RIGHT_UPPER_ARM, Bone.SPINE, (L.RIGHT_SHOULDER,), _HIPS),
    ("LeftLowerArm", Bone.LEFT_FOREARM, Bone.LEFT_UPPER_ARM, (L.LEFT_ELBOW,), (L.LEFT_SHOULDER,)),
    ("RightLowerArm", Bone.RIGHT_FOREARM, Bone.RIGHT_UPPER_ARM, (L.RIGHT_ELBOW,), (L.RIGHT_SHOULDER,)),
    ("LeftUpperLeg", Bone.LEFT_THIGH, None, (L.LEFT_HIP,), _HIPS),
    ("RightUpperLeg", Bone.RIGHT_THIGH, None, (L.RIGHT_HIP,), _HIPS),
    ("LeftLowerLeg", Bone.LEFT_SHIN, Bone.LEFT_THIGH, (L.LEFT_KNEE,), (L.LEFT_HIP,)),
    ("RightLowerLeg", Bone.RIGHT_SHIN, Bone.RIGHT_THIGH, (L.RIGHT_KNEE,), (L.RIGHT_HIP,)),
)


def _mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of (x, y, z, w) quaternions."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.array(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ]
    )


def _inverse(q: np.ndarray) -> np.ndarray:
    return np.array([-q[0], -q[1], -q[2], q[3]]) / float(np.dot(q, q))


def yaw_quaternion(yaw_deg: float) -> np.ndarray:
    """Rotation about +y; positive turns +z towards +x (the person's right, in Unity)."""
    half = math.radians(yaw_deg) / 2.0
    return np.array([0.0, math.sin(half), 0.0, math.cos(half)])


def _mid(world: np.ndarray, landmarks: tuple[L, ...]) -> np.ndarray:
    """One landmark, or the midpoint of a left/right pair."""
    if len(landmarks) == 1:
        return np.asarray(world[landmarks[0]], dtype=np.float64)
    left, right = landmarks
    return np.asarray(midpoint(world[left].astype(np.float64), world[right].astype(np.float64)))


def _floats(*values: Any) -> list[float]:
    return [float(v) for v in np.concatenate([np.ravel(v) for v in values])]


def vmc_messages(frame: AvatarFrame) -> list[OscMessage]:
    """The OSC messages of one avatar frame, in the order a VMC performer sends them."""
    if not frame.present:
        return [("/VMC/Ext/OK", [0]), ("/VMC/Ext/T", [float(frame.t_s)])]
    assert frame.world_m is not None and frame.bones is not None
    world, bones = frame.world_m, frame.bones
    hips = _mid(world, _HIPS)
    messages: list[OscMessage] = [
        ("/VMC/Ext/Root/Pos", ["root", *_floats(hips, np.array([0.0, 0.0, 0.0, 1.0]))]),
        ("/VMC/Ext/Bone/Pos", ["Hips", *_floats(np.zeros(3), np.array([0.0, 0.0, 0.0, 1.0]))]),
    ]
    for name, bone, parent, joint, parent_joint in BONE_MAP:
        rotation = bones[bone] if parent is None else _mul(_inverse(bones[parent]), bones[bone])
        position = _mid(world, joint) - _mid(world, parent_joint)
        messages.append(("/VMC/Ext/Bone/Pos", [name, *_floats(position, rotation)]))
    if frame.head_yaw_deg is not None:
        head = _mul(_inverse(bones[Bone.SPINE]), yaw_quaternion(frame.head_yaw_deg))
        neck = _mid(world, (L.NOSE,)) - _mid(world, _SHOULDERS)
        messages.append(("/VMC/Ext/Bone/Pos", ["Head", *_floats(neck, head)]))
    messages += [("/VMC/Ext/OK", [1]), ("/VMC/Ext/T", [float(frame.t_s)])]
    return messages


def build_bundle(messages: list[OscMessage]) -> bytes:
    """One OSC bundle (timetag 'immediately') holding `messages`."""
    bundle = OscBundleBuilder(IMMEDIATELY)
    for address, args in messages:
        message = OscMessageBuilder(address=address)
        for arg in args:
            message.add_arg(arg)
        bundle.add_content(message.build())  # type: ignore[arg-type]
    return bundle.build().dgram


class VmcSender:
    """Sends one OSC bundle per avatar frame to a VMC receiver; other topics are not VMC's."""

    name = "vmc"

    def __init__(self, config: VmcConfig) -> None:
        self._config = config
        family, _, _, _, address = socket.getaddrinfo(config.host, config.port, type=socket.SOCK_DGRAM)[0]
        self._address = address
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.setblocking(False)  # a full send buffer drops the frame instead of waiting
        self.frames_sent = 0
        self.bytes_sent = 0

    def __repr__(self) -> str:
        return f"VmcSender({self._config.host}:{self._config.port})"

    def publish_avatar(self, frame: AvatarFrame) -> None:
        dgram = build_bundle(vmc_messages(frame))
        try:
            self._sock.sendto(dgram, self._address)
        except OSError:
            return  # UDP is fire-and-forget: a missing receiver must not stop the frame loop
        self.frames_sent += 1
        self.bytes_sent += len(dgram)

    def publish_status(self, state: str, **fields: Any) -> None:
        """Not part of VMC."""

    def publish_feedback(self, event: Mapping[str, Any]) -> str | None:
        """Not part of VMC."""
        return None

    def publish_session(self, summary: Mapping[str, Any]) -> None:
        """Not part of VMC."""

    def close(self) -> None:
        self._sock.close()
