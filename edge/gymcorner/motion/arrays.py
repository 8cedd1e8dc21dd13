"""Array type names for the pure core.

`FloatArray` is what the core computes in: float64 (geometry, features, quaternions).
`LandmarkArray` is what BlazePose gives and recordings store: float32 landmarks, kept in
float32 on purpose (a replay must see the same bits as the live run). `AnyFloatArray` is an
input of either precision (geometry reads float32 landmarks and float64 work arrays
alike); `Array` is for the few functions that keep the caller's dtype (filters, midpoints).
`BoolArray` holds masks (which bones were measured on this frame).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
LandmarkArray = npt.NDArray[np.float32]
Array = npt.NDArray[Any]
AnyFloatArray = npt.NDArray[np.floating[Any]]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["AnyFloatArray", "Array", "BoolArray", "FloatArray", "LandmarkArray"]
