// node host/web/test/vectors.test.mjs tests/vectors  — the JS decoder (edge/gymcorner/transport/web/avatar-frame.js) against the shared vectors.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeBinary, decodeJson, decodePayload, LANDMARK_NAMES, BONE_NAMES } from "../../../edge/gymcorner/transport/web/avatar-frame.js";

const dir = process.argv[2] ?? "tests/vectors";
let passed = 0, failed = 0;
const check = (ok, what) => { ok ? passed++ : failed++; console.log(`${ok ? "PASS" : "FAIL"} ${what}`); };
const near = (a, b, tol) => Math.abs(a - b) <= tol;
const hex = (h) => Uint8Array.from(h.match(/../g).map((x) => parseInt(x, 16)));

function differs(got, want) {
  for (const key of ["v", "seq", "t_s", "present", "view", "exercise"]) if (got[key] !== want[key]) return key;
  if (!want.present) return null;
  for (const key of ["interval", "delta_deg", "yaw_deg"]) if (got.head[key] !== want.head[key]) return `head.${key}`;
  for (const name of LANDMARK_NAMES) {
    const [a, b] = [got.landmarks[name], want.landmarks[name]];
    if (![0, 1, 2].every((i) => near(a[i], b[i], 1e-9)) || !near(a[3], b[3], 5e-4 + 1e-9)) return `landmark ${name}`;
  }
  for (const name of BONE_NAMES) if (!got.bones[name].every((c, i) => near(c, want.bones[name][i], 5e-6))) return `bone ${name}`;
  return null;
}

for (const v of JSON.parse(readFileSync(join(dir, "avatar_v1.json"), "utf8"))) {
  const frame = decodeBinary(hex(v.hex));
  const bad = differs(frame, v.json);
  check(bad === null, `vector '${v.name}' decodes to its JSON${bad ? `: ${bad} differs` : ""}`);
  check(differs(decodePayload(new TextEncoder().encode(JSON.stringify(v.json))), decodeJson(v.json)) === null, `vector '${v.name}' as a JSON payload`);
}
for (const v of JSON.parse(readFileSync(join(dir, "avatar_v1_invalid.json"), "utf8"))) {
  try { decodeBinary(hex(v.hex)); check(false, `rejects '${v.name}' (accepted)`); }
  catch (err) { check(err.name === "Error" || err.constructor.name === "AvatarFrameError", `rejects '${v.name}': ${err.message}`); }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
