// gymcorner browser avatar viewer: subscribes to one device over MQTT-over-WebSockets and
// shows the skeleton (three.js), exercise, reps, faults, heart rate and coaching messages.
// Read-only: it never publishes. Options in the query string:
//   ?broker=ws://host:9001&device=corner-1&base=gymcorner
import * as deps from "./vendor/deps.js";
import { LANDMARK_NAMES, decodePayload } from "./avatar-frame.js";
import { BACKGROUND, BONE_COLOUR, CONNECTIONS, JOINT_COLOUR, toScene } from "./skeleton.js";

const THREE = deps;
const params = new URLSearchParams(location.search);
const broker = params.get("broker") || `ws://${location.hostname || "localhost"}:9001`;
const device = params.get("device") || "corner-1";
const base = (params.get("base") || "gymcorner").replace(/\/+$/, "");
const root = `${base}/${device}`;
const FAULT_SHOW_S = 6;  // a fault stays listed this long after its last cue (frame time)
const MAX_MESSAGES = 8;

const $ = (id) => document.getElementById(id);
$("device").textContent = device;

// ------------------------------------------------------------------ the scene
const canvas = $("skeleton");
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
const scene = new THREE.Scene();
scene.background = new THREE.Color(BACKGROUND);
const camera = new THREE.PerspectiveCamera(40, 1, 0.05, 50);
camera.position.set(1.6, 0.5, 3.0);  // three-quarter view: depth shows for frontal and lateral people
camera.lookAt(0, -0.1, 0);
scene.add(new THREE.AmbientLight(0xffffff, 0.8));
const sun = new THREE.DirectionalLight(0xffffff, 1.6);
sun.position.set(1, 2, 3);
scene.add(sun);
const grid = new THREE.GridHelper(4, 16, 0x3b4756, 0x262e39);
grid.position.y = -0.95;
scene.add(grid);

const person = new THREE.Group();
scene.add(person);
const linePositions = new Float32Array(CONNECTIONS.length * 2 * 3);
const lineGeometry = new THREE.BufferGeometry();
lineGeometry.setAttribute("position", new THREE.BufferAttribute(linePositions, 3));
person.add(new THREE.LineSegments(lineGeometry, new THREE.LineBasicMaterial({ color: BONE_COLOUR })));
const joints = new THREE.InstancedMesh(new THREE.SphereGeometry(0.025, 12, 8),
  new THREE.MeshStandardMaterial({ color: JOINT_COLOUR }), LANDMARK_NAMES.length);
person.add(joints);
person.visible = false;
const matrix = new THREE.Matrix4();

let framesShown = 0;
function showFrame(frame) {
  framesShown += 1;
  canvas.dataset.frames = String(framesShown);
  canvas.dataset.present = String(frame.present);
  $("view").textContent = frame.view;
  if (typeof frame.exercise === "string" && frame.exercise !== "unknown") $("exercise").textContent = frame.exercise;
  if (!frame.present) { person.visible = false; return; }
  const points = LANDMARK_NAMES.map((name) => toScene(frame.landmarks[name]));
  CONNECTIONS.forEach(([a, b], i) => {
    linePositions.set(points[a], i * 6);
    linePositions.set(points[b], i * 6 + 3);
  });
  lineGeometry.attributes.position.needsUpdate = true;
  lineGeometry.computeBoundingSphere();
  points.forEach((p, i) => joints.setMatrixAt(i, matrix.makeTranslation(p[0], p[1], p[2])));
  joints.instanceMatrix.needsUpdate = true;
  person.visible = true;
}

function resize() {
  const { clientWidth: w, clientHeight: h } = canvas;
  if (canvas.width !== w || canvas.height !== h) {
    renderer.setSize(w, h, false);
    camera.aspect = w / Math.max(1, h);
    camera.updateProjectionMatrix();
  }
}
function render() {
  resize();
  renderer.render(scene, camera);
  requestAnimationFrame(render);
}
requestAnimationFrame(render);

// ------------------------------------------------------------ the side panel
const seen = new Set();  // feedback is at-least-once: de-duplicate by id
const faults = new Map();  // code -> {text, t}
let reps = 0;
let lastT = 0;

function showFaults() {
  const list = $("faults");
  list.replaceChildren();
  const active = [...faults.entries()].filter(([, f]) => lastT - f.t <= FAULT_SHOW_S);
  if (!active.length) {
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = "none";
    list.append(li);
  }
  for (const [code, f] of active) {
    const li = document.createElement("li");
    li.dataset.code = code;
    li.textContent = f.text;
    list.append(li);
  }
}

function onFeedback(event) {
  if (seen.has(event.id)) return;
  seen.add(event.id);
  lastT = Math.max(lastT, event.t);
  const li = document.createElement("li");
  li.className = event.severity;
  li.dataset.code = event.code;
  const time = document.createElement("time");
  time.textContent = `${event.t.toFixed(1)} s`;
  li.append(time, event.text);
  $("messages").prepend(li);
  while ($("messages").children.length > MAX_MESSAGES) $("messages").lastChild.remove();
  if (event.kind === "rep") reps = Number.isInteger(event.details?.rep) ? event.details.rep : reps + 1;
  if (event.kind === "form" && event.severity === "warning") faults.set(event.code, { text: event.text, t: event.t });
  $("reps").textContent = String(reps);
  if (event.exercise) $("exercise").textContent = event.exercise;
  showFaults();
}

function onStatus(status) {
  $("status").textContent = status.state === "online" ? (status.detail || "online") : `offline (${status.detail || "?"})`;
  $("status").dataset.state = status.state;
  if (status.exercise) $("exercise").textContent = status.exercise;
}

function onSession(session) {
  if (Number.isInteger(session.reps)) reps = session.reps;  // the device's count wins (and resets)
  $("reps").textContent = String(reps);
  if (typeof session.t === "number") { lastT = Math.max(lastT, session.t); showFaults(); }
}

// ------------------------------------------------------------------- MQTT
const connection = $("connection");
const client = deps.mqtt.connect(broker, { reconnectPeriod: 2000, connectTimeout: 5000, clean: true });
client.on("connect", () => {
  connection.dataset.state = "connected";
  connection.textContent = `${broker} · ${root}`;
  client.subscribe([`${root}/status`, `${root}/avatar`, `${root}/feedback`, `${root}/session`,
    `${root}/wearables/heart_rate`], { qos: 1 });
});
client.on("error", (err) => { connection.dataset.state = "error"; connection.textContent = `MQTT: ${err.message}`; });
client.on("offline", () => { connection.dataset.state = "connecting"; connection.textContent = "reconnecting…"; });
client.on("message", (topic, payload) => {
  try {
    const text = () => new TextDecoder().decode(payload);
    if (topic === `${root}/avatar`) showFrame(decodePayload(payload));
    else if (topic === `${root}/feedback`) onFeedback(JSON.parse(text()));
    else if (topic === `${root}/status`) onStatus(JSON.parse(text()));
    else if (topic === `${root}/session`) onSession(JSON.parse(text()));
    else if (topic === `${root}/wearables/heart_rate`) {
      const bpm = JSON.parse(text()).bpm;
      if (typeof bpm === "number") $("heart-rate").textContent = `${Math.round(bpm)} bpm`;
    }
  } catch (err) {
    console.warn(`dropped a message on ${topic}: ${err.message}`);
  }
});
