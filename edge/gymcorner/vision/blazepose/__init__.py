"""BlazePose's two TFLite networks run directly on LiteRT, without the mediapipe package.

The pipeline follows MediaPipe's public pose graphs (person detector -> rotated ROI ->
landmark network -> projection back -> next ROI from the landmarks), re-written here so the
edge box needs only a TFLite runtime. `backend.LiteRtPose` is the pose backend `litert`.
"""
