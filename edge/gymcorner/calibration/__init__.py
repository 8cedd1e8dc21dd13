"""Field calibration: measure the person in the corner, derive site thresholds (see calibrate.py)."""
