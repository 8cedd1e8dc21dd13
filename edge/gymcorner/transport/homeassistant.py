"""Home Assistant MQTT discovery: the device's numbers as sensors, with no YAML.

Home Assistant reads retained config messages under `<prefix>/sensor/<node>/<object>/config`
and then follows the state topics they name. Availability is bound to our retained
`status` topic (and its last will), so the sensors go "unavailable" when the device does.
Pure: builds (topic, payload) pairs; the MQTT publisher sends them.
"""

from __future__ import annotations

from typing import Any

from gymcorner import __version__

# (object id, name, state sub-topic, template, unit, icon)
SENSORS: tuple[tuple[str, str, str, str, str | None, str], ...] = (
    ("heart_rate", "Heart rate", "wearables/heart_rate", "{{ value_json.bpm }}", "bpm", "mdi:heart-pulse"),
    ("reps", "Reps", "session", "{{ value_json.reps }}", None, "mdi:counter"),
    ("exercise", "Exercise", "status", "{{ value_json.exercise }}", None, "mdi:weight-lifter"),
    ("session_state", "Session", "session", "{{ value_json.state }}", None, "mdi:play-pause"),
)


def discovery_messages(
    base_topic: str, device_id: str, prefix: str = "homeassistant", heart_rate_topic: str | None = None
) -> list[tuple[str, dict[str, Any]]]:
    root = f"{base_topic.rstrip('/')}/{device_id}"
    node = f"gymcorner_{device_id}".replace("-", "_")
    device = {
        "identifiers": [node],
        "name": f"gymcorner {device_id}",
        "manufacturer": "gymcorner",
        "model": "gym-corner coach",
        "sw_version": __version__,
    }
    messages = []
    for object_id, name, subtopic, template, unit, icon in SENSORS:
        config: dict[str, Any] = {
            "name": name,
            "unique_id": f"{node}_{object_id}",
            "object_id": f"{node}_{object_id}",
            "state_topic": heart_rate_topic if object_id == "heart_rate" and heart_rate_topic else f"{root}/{subtopic}",
            "value_template": template,
            "availability_topic": f"{root}/status",
            "availability_template": "{{ value_json.state }}",
            "payload_available": "online",
            "payload_not_available": "offline",
            "icon": icon,
            "device": device,
        }
        if unit:
            config["unit_of_measurement"] = unit
            config["state_class"] = "measurement"
        messages.append((f"{prefix}/sensor/{node}/{object_id}/config", config))
    return messages
