"""gymcorner: the software of a gym-corner coaching device."""

__version__ = "0.1.0"
