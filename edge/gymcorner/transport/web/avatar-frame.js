// The avatar frame v1 (docs/avatar-frame.md) for browsers and Node: binary and JSON decoders.
// No dependencies; tested against tests/vectors/ by tests/test_web_decoder.py (node).
// Coordinates: metres, +x the person's right, +y up, +z their forward (Unity's axes).

export const LANDMARK_NAMES = [
  "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
  "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
  "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
  "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
  "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index"];
export const BONE_NAMES = ["spine", "left_upper_arm", "right_upper_arm", "left_forearm", "right_forearm",
  "left_thigh", "right_thigh", "left_shin", "right_shin"];
export const VIEWS = ["unknown", "frontal", "lateral"];
export const EXERCISES = ["unknown", "squat", "push_up", "pull_up", "dip", "plank", "lunge", "jumping_jack", "bicep_curl", "russian_twist", "other", "bench_press", "front_raise", "sit_up", "cable_pushdown"];  // codec.Exercise order
export const HEADER_SIZE = 17;
export const FRAME_SIZE = 295;

const QUAT_SCALE = 32767 * Math.SQRT2;

export class AvatarFrameError extends Error {}

function fail(message) { throw new AvatarFrameError(message); }
const codeName = (names, code) => (code < names.length ? names[code] : code);

/** Decode a binary v1 frame (Uint8Array or ArrayBuffer) into the JSON form's shape. */
export function decodeBinary(input) {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length < HEADER_SIZE) fail(`truncated avatar frame: ${bytes.length} bytes, the header alone is ${HEADER_SIZE}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0x47 || bytes[1] !== 0x41) fail("not an avatar frame: wrong magic");
  if (bytes[2] !== 1) fail(`avatar frame version ${bytes[2]} is not supported (this reader knows 1)`);
  const flags = bytes[3];
  if (flags & ~0x03) fail("avatar frame flags set reserved bits");
  const tS = dv.getFloat64(8, true);
  if (!Number.isFinite(tS)) fail("avatar frame t_s is not finite");
  const present = (flags & 1) !== 0;
  const expected = present ? FRAME_SIZE : HEADER_SIZE;
  if (bytes.length !== expected) fail(`avatar frame ${present ? "with" : "without"} a person must be ${expected} bytes, got ${bytes.length}`);
  const frame = { v: 1, seq: dv.getUint32(4, true), t_s: tS, present,
    view: codeName(VIEWS, bytes[16] & 0x0f), exercise: codeName(EXERCISES, bytes[16] >> 4) };
  const headKnown = (flags & 2) !== 0;
  if (!present) {
    if (headKnown) fail("avatar frame without a person claims a known head");
    return frame;
  }
  const interval = dv.getUint16(17, true), delta = dv.getInt16(19, true), yaw = dv.getInt16(21, true);
  if (headKnown !== (interval !== 0xffff) || (!headKnown && (delta || yaw))) fail("avatar frame head fields contradict the head-known flag");
  frame.head = { interval: headKnown ? interval : null, delta_deg: delta / 10, yaw_deg: headKnown ? yaw / 10 : null };
  let offset = 23;
  const visOffset = offset + 33 * 6;
  if (bytes[visOffset + 16] >> 4) fail("avatar frame visibility padding is not zero");
  frame.landmarks = {};
  LANDMARK_NAMES.forEach((name, i) => {
    const byte = bytes[visOffset + (i >> 1)];
    const level = i % 2 === 0 ? byte & 0x0f : byte >> 4;
    frame.landmarks[name] = [dv.getInt16(offset, true) / 1000, dv.getInt16(offset + 2, true) / 1000,
      dv.getInt16(offset + 4, true) / 1000, level / 15];
    offset += 6;
  });
  offset = visOffset + 17;
  const indexBits = bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16);
  if (indexBits >> 18) fail("quaternion index block has bits set beyond the last bone");
  offset += 3;
  frame.bones = {};
  BONE_NAMES.forEach((name, b) => {
    const kept = [0, 2, 4].map((k) => dv.getInt16(offset + k, true) / QUAT_SCALE);
    offset += 6;
    const squares = kept.reduce((s, a) => s + a * a, 0);
    const restored = Math.sqrt(Math.max(0, 1 - squares));
    if (squares > 0.751 || Math.max(...kept.map(Math.abs)) > restored + 1e-3) fail(`bone ${name}: not a smallest-three quaternion`);
    const dropped = (indexBits >> (2 * b)) & 3;
    const q = [];
    for (let j = 0, k = 0; j < 4; j++) q.push(j === dropped ? restored : kept[k++]);
    frame.bones[name] = q;
  });
  return frame;
}

/** Parse the JSON form (text or object); checks the version and the fields a viewer needs. */
export function decodeJson(input) {
  const frame = typeof input === "string" ? JSON.parse(input) : input;
  if (frame === null || typeof frame !== "object") fail("avatar JSON: the payload must be an object");
  if (frame.v !== 1) fail(`avatar JSON version ${frame.v} is not supported (this reader knows 1)`);
  if (!Number.isInteger(frame.seq) || typeof frame.t_s !== "number" || typeof frame.present !== "boolean") fail("avatar JSON: seq, t_s and present are required");
  if (frame.present) {
    for (const name of LANDMARK_NAMES) if (!Array.isArray(frame.landmarks?.[name]) || frame.landmarks[name].length !== 4) fail(`avatar JSON: landmarks.${name} missing`);
    for (const name of BONE_NAMES) if (!Array.isArray(frame.bones?.[name]) || frame.bones[name].length !== 4) fail(`avatar JSON: bones.${name} missing`);
  }
  return frame;
}

/** Either form: an MQTT payload starting with '{' is JSON, anything else binary. */
export function decodePayload(bytes) {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return u8.length > 0 && u8[0] === 0x7b ? decodeJson(new TextDecoder().decode(u8)) : decodeBinary(u8);
}
