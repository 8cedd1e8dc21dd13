// How a person is drawn from the avatar frame's 33 landmarks: BlazePose's skeleton as landmark
// index pairs, the colours, and the axes. Shared by the live viewer (viewer.js, three.js) and
// the dashboard's session replay (gymcorner/dashboard/static/replay.js, a 2-D canvas), so a
// replay looks like the live view. No dependencies.
export const CONNECTIONS = [[11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [11, 23], [12, 24], [23, 24], [23, 25],
  [25, 27], [27, 29], [29, 31], [27, 31], [24, 26], [26, 28], [28, 30], [30, 32], [28, 32], [0, 11], [0, 12],
  [15, 17], [15, 19], [15, 21], [16, 18], [16, 20], [16, 22], [9, 10], [7, 0], [8, 0]];
export const BACKGROUND = 0x11151c;
export const BONE_COLOUR = 0x4fc3f7;
export const JOINT_COLOUR = 0xffd166;

// Avatar frame (+x the person's right, +y up, +z their forward; left-handed) -> a viewer's
// right-handed axes: negate x, so that a person facing the camera is drawn facing the viewer,
// not mirrored.
export const toScene = (p) => [-p[0], p[1], p[2]];

export const cssColour = (hex) => `#${hex.toString(16).padStart(6, "0")}`;
