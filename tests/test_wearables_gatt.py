"""Heart Rate Service parsing against byte vectors worked out from the specification
(HRS 1.0 section 3.1 / GATT Specification Supplement), and property tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gymcorner.wearables.gatt import (
    BodySensorLocation,
    GattError,
    HeartRateMeasurement,
    encode_heart_rate_measurement,
    parse_battery_level,
    parse_body_sensor_location,
    parse_heart_rate_measurement,
)

# (value, bpm, contact, energy kJ, RR in 1/1024 s), each worked out by hand from the flags table.
SPEC_VECTORS = [
    ("0048", 72, None, None, ()),  # flags 0: uint8 HR 0x48, contact not supported
    ("0200", 0, None, None, ()),  # bit 1 without bit 2: contact status is meaningless -> None
    ("0448", 72, False, None, ()),  # contact supported, not detected
    ("0648", 72, True, None, ()),  # contact supported and detected
    ("01ff00", 255, None, None, ()),  # uint16 HR 0x00FF
    ("012c01", 300, None, None, ()),  # uint16 HR 0x012C = 300
    ("085a3412", 90, None, 0x1234, ()),  # energy expended 0x1234 kJ
    ("105a0004", 90, None, None, (1024,)),  # one RR = 0x0400 = exactly 1 s
    ("165a00040002", 90, True, None, (1024, 512)),  # contact + two RR
    ("19a0000a00330337032a03", 160, None, 10, (819, 823, 810)),  # uint16 HR + energy + three RR
    ("1e5affff3303", 90, True, 0xFFFF, (819,)),  # energy saturated at 0xFFFF
    ("e048", 72, None, None, ()),  # reserved bits 5-7 set: ignored
]


@pytest.mark.parametrize("hexvalue,bpm,contact,energy,rr", SPEC_VECTORS, ids=[v[0] for v in SPEC_VECTORS])
def test_heart_rate_measurement_spec_vectors(hexvalue, bpm, contact, energy, rr) -> None:
    m = parse_heart_rate_measurement(bytes.fromhex(hexvalue))
    assert (m.heart_rate_bpm, m.sensor_contact, m.energy_expended_kj, m.rr_intervals_1024) == (bpm, contact, energy, rr)


def test_rr_in_milliseconds() -> None:
    m = parse_heart_rate_measurement(bytes.fromhex("105a00040002"))
    assert m.rr_intervals_ms == (1000.0, 500.0)


@pytest.mark.parametrize("hexvalue", ["", "01", "0148", "08", "0848", "08481", "10480004ff", "0048ff"])
def test_malformed_measurements_are_refused(hexvalue: str) -> None:
    with pytest.raises(GattError):
        parse_heart_rate_measurement(
            bytes.fromhex(hexvalue) if len(hexvalue) % 2 == 0 else bytes.fromhex(hexvalue[:-1]) + b"\x01"
        )


measurements = st.builds(
    HeartRateMeasurement,
    st.integers(0, 0xFFFF),
    st.sampled_from([None, True, False]),
    st.one_of(st.none(), st.integers(0, 0xFFFF)),
    st.lists(st.integers(0, 0xFFFF), max_size=9).map(tuple),
)


@given(measurements, st.booleans())
def test_round_trip(m: HeartRateMeasurement, force16: bool) -> None:
    assert parse_heart_rate_measurement(encode_heart_rate_measurement(m, force16)) == m


@given(st.binary(max_size=40))
def test_any_bytes_parse_or_raise_gatt_error(data: bytes) -> None:
    try:
        m = parse_heart_rate_measurement(data)
    except GattError:
        return
    assert 0 <= m.heart_rate_bpm <= 0xFFFF and all(0 <= r <= 0xFFFF for r in m.rr_intervals_1024)


def test_battery_and_location() -> None:
    assert parse_battery_level(b"\x57") == 87
    assert parse_battery_level(bytearray(b"\x00")) == 0
    for bad in (b"", b"\x65", b"\x01\x02"):
        with pytest.raises(GattError):
            parse_battery_level(bad)
    assert parse_body_sensor_location(b"\x01") is BodySensorLocation.CHEST
    assert parse_body_sensor_location(b"\x06") is BodySensorLocation.FOOT
    assert parse_body_sensor_location(b"\x07") is None  # reserved
    with pytest.raises(GattError):
        parse_body_sensor_location(b"")
