"""Heart-rate wearables: BLE straps read directly (bleak) or through the ESP32 serial relay.

Both paths end in the same `HeartRateReading` (readings.py), fed into `WearableState`
(state.py: zone, HRV, staleness) and published by `WearablesService` (service.py).
"""
