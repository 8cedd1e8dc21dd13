// The session page's replay: the person as a stick figure on a <canvas>, from the landmarks
// the coach kept (/api/sessions/N/landmarks: landmark chunks v1, docs/history.md), with
// play / pause, a time slider and a front or side view. Drawn as the live viewer draws the
// avatar (skeleton.js: the same bones, colours and axes), flat instead of in three.js.
// The landmarks come in pages (docs/dashboard.md): the first says how long the session is,
// the next is fetched ahead of the playhead, a seek fetches the page that holds that moment,
// and at most PAGES_KEPT pages are kept. No image was ever stored: only these coordinates.
// No dependencies, nothing from elsewhere.
import { BACKGROUND, BONE_COLOUR, CONNECTIONS, JOINT_COLOUR, cssColour, toScene } from "./skeleton.js";

const LANDMARKS = 33;
const HEADER_SIZE = 14;
const FRAME_SIZE = 2 + LANDMARKS * 6 + 17;
const ABSENT_S = 0.5;  // no frame this close before the moment shown: nobody was in view
const PAGES_KEPT = 4;  // pages of landmarks in memory at most (the playhead's, the next, two seen)
const EPS_S = 1e-3;  // a page holds the moments from its first frame to the next page's, give or take this

/** Every frame of a landmark stream: {t: Float64Array, xyz: Float32Array (n*99, metres), vis: Float32Array (n*33)}. */
export function decodeLandmarks(buffer) {
  const bytes = new Uint8Array(buffer);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks = [];
  let total = 0;
  for (let offset = 0; offset < bytes.length;) {
    if (bytes.length - offset < HEADER_SIZE) throw new Error(`truncated landmark chunk at byte ${offset}`);
    if (bytes[offset] !== 0x47 || bytes[offset + 1] !== 0x4c) throw new Error(`not a landmark chunk at byte ${offset}`);
    if (bytes[offset + 2] !== 1) throw new Error(`landmark chunk version ${bytes[offset + 2]} is not supported`);
    const count = dv.getUint16(offset + 4, true);
    const end = offset + HEADER_SIZE + count * FRAME_SIZE;
    if (end > bytes.length) throw new Error(`landmark chunk at byte ${offset} is cut short`);
    chunks.push({ offset, count, t0: dv.getFloat64(offset + 6, true) });
    total += count;
    offset = end;
  }
  const t = new Float64Array(total), xyz = new Float32Array(total * LANDMARKS * 3), vis = new Float32Array(total * LANDMARKS);
  let n = 0;
  for (const { offset, count, t0 } of chunks) {
    for (let f = 0; f < count; f++, n++) {
      let at = offset + HEADER_SIZE + f * FRAME_SIZE;
      t[n] = t0 + dv.getUint16(at, true) / 1000;
      at += 2;
      for (let i = 0; i < LANDMARKS * 3; i++) xyz[n * LANDMARKS * 3 + i] = dv.getInt16(at + 2 * i, true) / 1000;
      at += LANDMARKS * 6;
      for (let i = 0; i < LANDMARKS; i++) {
        const byte = bytes[at + (i >> 1)];
        vis[n * LANDMARKS + i] = (i % 2 === 0 ? byte & 0x0f : byte >> 4) / 15;
      }
    }
  }
  return { t, xyz, vis, length: total };
}

// ------------------------------------------------------------------ the player
const canvas = typeof document === "undefined" ? null : document.getElementById("replay-canvas");  // node: the decoder alone
if (canvas) start(canvas);

/** A page of the session's landmarks and where it sits: the x-landmark-* headers of its response. */
function pageOf(response, buffer) {
  const number = (name, missing = null) => {
    const text = response.headers.get(`x-landmark-${name}`);
    return text === null ? missing : Number(text);
  };
  const frames = decodeLandmarks(buffer);
  const start = number("from", 0);
  return {
    ...frames,
    start,
    next: number("next"),
    firstFrame: number("first-frame", 0),
    from: start === 0 ? -Infinity : (frames.length ? frames.t[0] : Infinity),  // the moments it holds: from ...
    to: number("next-t0", Infinity),  // ... up to the next page's first frame
    session: { chunks: number("chunks", 0), frames: number("frames", 0), t0: number("t0"), t1: number("t1") },
  };
}

async function start(canvas) {
  const $ = (id) => document.getElementById(id);
  const play = $("replay-play"), slider = $("replay-time"), clock = $("replay-clock"), view = $("replay-view");
  const status = $("replay-status");
  const origin = Number(canvas.dataset.origin);
  const say = (text, state) => { status.textContent = text; canvas.dataset.state = state; };
  const pages = new Map();  // first chunk -> page
  const asked = new Map();  // query -> its fetch, while it runs
  let requests = 0;

  async function fetchPage(query) {
    requests += 1;
    canvas.dataset.requests = String(requests);
    const response = await fetch(`${canvas.dataset.src}?${query}`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`the landmarks did not load (${response.status})`);
    return pageOf(response, await response.arrayBuffer());
  }

  let first;
  try {
    first = await fetchPage("from=0");
  } catch (err) {
    say(err.message, "error");
    return;
  }
  const session = first.session;
  if (!first.length) { say("nothing to replay", "empty"); return; }
  canvas.dataset.frames = String(session.frames);
  const end = session.t1 - origin;
  slider.max = end.toFixed(1);
  const ctx = canvas.getContext("2d");
  const seen = { front: null, side: null };  // the box the figure has fitted in so far, per view
  let playing = false, startWall = 0, startAt = 0;
  keep(first);

  function keep(page) {  // a page in memory, and the one farthest from the playhead's out
    if (!page.length || pages.has(page.start)) return;
    pages.set(page.start, page);
    for (const which of Object.keys(seen)) seen[which] = union(seen[which], boundsOf(page, which));
    const here = locate(Number(slider.value))?.start ?? page.start;
    while (pages.size > PAGES_KEPT) {
      let far = null;
      for (const start of pages.keys()) {
        if (start !== page.start && start !== here && (far === null || Math.abs(start - here) > Math.abs(far - here))) far = start;
      }
      pages.delete(far);
    }
    canvas.dataset.pages = String(pages.size);
  }

  function ask(query) {  // one fetch a query at a time; what it brings is drawn where the playhead is then
    if (asked.has(query)) return;
    const fetched = fetchPage(query).then((page) => {
      if (!page.length) throw new Error("these landmarks are no longer kept");  // pruned since: say so and stop
      return page;
    });
    asked.set(query, fetched.then((page) => {
      asked.delete(query);
      keep(page);
      draw(Number(slider.value));
    }, (err) => {
      asked.delete(query);
      playing = false;  // stopped where it is; the next click or seek asks again
      play.textContent = "Play";
      play.setAttribute("aria-pressed", "false");
      say(err.message, "error");
    }));
  }

  function locate(s) {  // the page in memory that holds origin + s, or null
    const at = origin + s;
    let found = null;
    for (const page of pages.values()) {
      if (page.from - EPS_S <= at && at < page.to + EPS_S && (found === null || page.start > found.start)) found = page;
    }
    return found;
  }

  function frameAt(page, s) {  // the newest frame of the page at or before origin + s (binary search)
    let lo = 0, hi = page.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (page.t[mid] - origin <= s + 1e-6) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found >= 0 && s - (page.t[found] - origin) <= ABSENT_S ? found : -1;
  }

  function draw(s) {
    const page = locate(s);
    ctx.fillStyle = cssColour(BACKGROUND);
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    clock.textContent = `${clockOf(s)} / ${clockOf(end)}`;
    if (page === null) {  // a seek (or the playhead) beyond the pages here: fetch the one that holds it
      canvas.dataset.shown = "-1";
      if (!asked.size) ask(`from_s=${Math.max(0, origin + s - session.t0)}`);  // else asked when that one is in
      say("loading…", "loading");
      return;
    }
    if (page.next !== null && !pages.has(page.next)) ask(`from=${page.next}`);  // the next page, ahead of the playhead
    const index = frameAt(page, s);
    canvas.dataset.shown = String(index < 0 ? -1 : page.firstFrame + index);
    if (index < 0) { say("nobody in view", playing ? "playing" : "paused"); return; }
    const bounds = seen[view.value];
    const points = [];
    for (let i = 0; i < LANDMARKS; i++) {
      const base = (index * LANDMARKS + i) * 3;
      const p = toScene([page.xyz[base], page.xyz[base + 1], page.xyz[base + 2]]);
      points.push({ ...project(p, view.value, bounds, canvas), v: page.vis[index * LANDMARKS + i] });
    }
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.strokeStyle = cssColour(BONE_COLOUR);
    for (const [a, b] of CONNECTIONS) {
      ctx.globalAlpha = Math.min(points[a].v, points[b].v) >= 0.5 ? 1 : 0.3;
      ctx.beginPath();
      ctx.moveTo(points[a].x, points[a].y);
      ctx.lineTo(points[b].x, points[b].y);
      ctx.stroke();
    }
    ctx.fillStyle = cssColour(JOINT_COLOUR);
    for (const p of points) {
      ctx.globalAlpha = p.v >= 0.5 ? 1 : 0.3;
      ctx.beginPath();
      ctx.arc(p.x, p.y, 4, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    say(`frame ${page.firstFrame + index + 1} of ${session.frames}`, playing ? "playing" : "paused");
  }

  function tick() {
    if (!playing) return;
    let s = Math.min(end, startAt + (performance.now() - startWall) / 1000);
    if (locate(startAt) === null) s = startAt;  // its page is on its way: the clock waits for it
    if (locate(s) === null) { startAt = s; startWall = performance.now(); }
    slider.value = s.toFixed(1);
    draw(s);
    if (s >= end) { pause(); return; }
    requestAnimationFrame(tick);
  }
  function resume() {
    if (Number(slider.value) >= end) slider.value = "0";
    playing = true;
    startAt = Number(slider.value);
    startWall = performance.now();
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    requestAnimationFrame(tick);
  }
  function pause() {
    playing = false;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
    draw(Number(slider.value));
  }
  play.addEventListener("click", () => (playing ? pause() : resume()));
  slider.addEventListener("input", () => {
    startAt = Number(slider.value);
    startWall = performance.now();
    draw(startAt);
  });
  view.addEventListener("change", () => draw(Number(slider.value)));
  play.disabled = slider.disabled = view.disabled = false;
  slider.value = Math.max(0, first.t[0] - origin).toFixed(1);
  draw(Math.max(0, first.t[0] - origin));
}

function axesOf(p, which) {  // front: as the camera saw them; side: from the person's left
  return which === "side" ? [p[2], p[1]] : [p[0], p[1]];
}

/** The box every visible landmark of these frames fits in (null: none visible). */
function boundsOf(frames, which) {
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let n = 0; n < frames.length; n++) {
    for (let i = 0; i < LANDMARKS; i++) {
      if (frames.vis[n * LANDMARKS + i] < 0.5) continue;
      const base = (n * LANDMARKS + i) * 3;
      const [x, y] = axesOf(toScene([frames.xyz[base], frames.xyz[base + 1], frames.xyz[base + 2]]), which);
      minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); maxY = Math.max(maxY, y);
    }
  }
  return Number.isFinite(minX) ? { minX, maxX, minY, maxY } : null;
}

/** The box both fit in: the replay's scale only grows as pages come, so the figure keeps its size. */
function union(a, b) {
  if (a === null || b === null) return a ?? b;
  return { minX: Math.min(a.minX, b.minX), maxX: Math.max(a.maxX, b.maxX), minY: Math.min(a.minY, b.minY), maxY: Math.max(a.maxY, b.maxY) };
}

function project(p, which, seen, canvas) {
  const b = seen ?? { minX: -1, maxX: 1, minY: -1, maxY: 1 };
  const [x, y] = axesOf(p, which);
  const margin = 24;
  const scale = Math.min((canvas.width - 2 * margin) / Math.max(0.2, b.maxX - b.minX),
    (canvas.height - 2 * margin) / Math.max(0.2, b.maxY - b.minY));
  const cx = canvas.width / 2 - ((b.minX + b.maxX) / 2) * scale;
  const cy = canvas.height / 2 + ((b.minY + b.maxY) / 2) * scale;
  return { x: cx + x * scale, y: cy - y * scale };  // +y is up in the avatar frame, down on a canvas
}

function clockOf(s) {
  const whole = Math.max(0, Math.round(s));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
