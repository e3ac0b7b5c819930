// SVG maps from /api/v1/map (GeoJSON, WGS84): wijk polygons, hotspots and incident markers.
// Equirectangular projection around each panel's own bounds (x scaled by cos(latitude), so that
// one unit is about as long east-west as north-south); no tiles, nothing from the internet.

import { svg, TZ } from "./common.js";

const SCALE = 100000; // projected units per degree of latitude (about 1.1 m per unit)
const M_PER_DEG = 111320;

const DAYS = {
  mo: 0, mon: 0, ma: 0, tu: 1, tue: 1, di: 1, we: 2, wed: 2, wo: 2, th: 3, thu: 3, do: 3,
  fr: 4, fri: 4, vr: 4, sa: 5, sat: 5, za: 5, su: 6, sun: 6, zo: 6,
};
const WINDOW = /^\s*(?:([A-Za-z]{2,3}(?:\s*[-,]\s*[A-Za-z]{2,3})*)\s+)?(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/;
const localParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: TZ, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
const WEEKDAY = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

function parseDays(spec) {
  const days = new Set();
  for (const part of spec.toLowerCase().split(/\s*,\s*/)) {
    if (part.includes("-")) {
      const [first, last] = part.split("-").map((p) => DAYS[p.trim()]);
      if (first === undefined || last === undefined) return null;
      for (let day = first; ; day = (day + 1) % 7) {
        days.add(day);
        if (day === last) break;
      }
    } else if (DAYS[part] !== undefined) {
      days.add(DAYS[part]);
    } else {
      return null;
    }
  }
  return days;
}

/** Is `now` inside one of the hot-time windows ("22:00-03:00", "Sa 22:00-04:00"), in Amsterdam time?
 *  A window that crosses midnight belongs to the day it started (same rule as app/triage/geo.py). */
export function inHotTime(hotTimes, now = new Date()) {
  const parts = Object.fromEntries(localParts.formatToParts(now).map((p) => [p.type, p.value]));
  const minute = Number(parts.hour) * 60 + Number(parts.minute);
  const weekday = WEEKDAY[parts.weekday];
  for (const spec of hotTimes || []) {
    const m = WINDOW.exec(spec);
    if (!m) continue;
    const days = m[1] ? parseDays(m[1]) : null;
    const start = Number(m[2]) * 60 + Number(m[3]);
    const end = Number(m[4]) * 60 + Number(m[5]);
    const onDay = (day) => days === null || days.has(day);
    if (end > start) {
      if (minute >= start && minute < end && onDay(weekday)) return true;
    } else if ((minute >= start && onDay(weekday)) || (minute < end && onDay((weekday + 6) % 7))) {
      return true;
    }
  }
  return false;
}

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return [geometry.coordinates];
  if (geometry.type === "MultiPolygon") return geometry.coordinates;
  return [];
}

/** The wijk features grouped per gemeente, each group with its bounds. */
export function regionGroups(collection) {
  const wijken = collection.features.filter((f) => f.properties.kind === "wijk");
  const hotspots = collection.features.filter((f) => f.properties.kind === "hotspot");
  const groups = new Map();
  for (const wijk of wijken) {
    const name = wijk.properties.gemeente || "Regio";
    if (!groups.has(name)) groups.set(name, { name, wijken: [], hotspots: [] });
    groups.get(name).wijken.push(wijk);
  }
  const byCode = new Map();
  for (const group of groups.values()) {
    for (const wijk of group.wijken) byCode.set(wijk.properties.wijkcode, group);
    group.bounds = boundsOf(group.wijken);
  }
  for (const spot of hotspots) {
    const group = byCode.get(spot.properties.wijkcode) || [...groups.values()].find((g) => contains(g.bounds, spot));
    if (group) group.hotspots.push(spot);
  }
  return [...groups.values()];
}

function contains(bounds, point) {
  const [lon, lat] = point.geometry.coordinates;
  return lon >= bounds.minLon && lon <= bounds.maxLon && lat >= bounds.minLat && lat <= bounds.maxLat;
}

function boundsOf(features) {
  const b = { minLon: Infinity, minLat: Infinity, maxLon: -Infinity, maxLat: -Infinity };
  for (const feature of features) {
    for (const polygon of rings(feature.geometry)) {
      for (const [lon, lat] of polygon[0] || []) {
        b.minLon = Math.min(b.minLon, lon);
        b.maxLon = Math.max(b.maxLon, lon);
        b.minLat = Math.min(b.minLat, lat);
        b.maxLat = Math.max(b.maxLat, lat);
      }
    }
  }
  return b;
}

/** The centre of a wijk's bounding box: where an incident without coordinates is drawn. */
export function wijkCentres(collection) {
  const centres = new Map();
  for (const feature of collection.features) {
    if (feature.properties.kind !== "wijk") continue;
    const b = boundsOf([feature]);
    centres.set(feature.properties.wijkcode, [(b.minLon + b.maxLon) / 2, (b.minLat + b.maxLat) / 2]);
  }
  return centres;
}

function projection(bounds, padding = 0.08) {
  const midLat = (bounds.minLat + bounds.maxLat) / 2;
  const kx = Math.cos((midLat * Math.PI) / 180);
  const width = (bounds.maxLon - bounds.minLon) * kx * SCALE;
  const height = (bounds.maxLat - bounds.minLat) * SCALE;
  const pad = Math.max(width, height) * padding;
  const project = ([lon, lat]) => [
    (lon - bounds.minLon) * kx * SCALE + pad,
    (bounds.maxLat - lat) * SCALE + pad,
  ];
  return { project, width: width + 2 * pad, height: height + 2 * pad, unitsPerMetre: SCALE / M_PER_DEG };
}

function pathOf(feature, project) {
  let d = "";
  for (const polygon of rings(feature.geometry)) {
    for (const ring of polygon) {
      d += ring.map((pt, i) => {
        const [x, y] = project(pt);
        return `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`;
      }).join("") + "Z";
    }
  }
  return d;
}

/**
 * Draws one SVG per gemeente into `container`. `markers`: [{id, label, urgency, lon, lat, approx, pulse,
 * offscreen}]. `highlight`: Map wijkcode -> "P1" | "P2" to tint wijken with open incidents. Markers are moved
 * off the wijk names and off each other; one that moved has a line to its place.
 */
export function drawMaps(container, groups, { markers = [], highlight = new Map(), now = new Date(),
  markerScale = 1, titles = true } = {}) {
  container.replaceChildren();
  for (const group of groups) {
    if (!Number.isFinite(group.bounds.minLon)) continue;
    const { project, width, height, unitsPerMetre } = projection(group.bounds);
    const size = Math.max(width, height);
    const font = size / 20;
    const markerR = (size / 17) * markerScale;
    const root = svg("svg", {
      viewBox: `0 0 ${width.toFixed(0)} ${height.toFixed(0)}`, preserveAspectRatio: "xMidYMid meet",
      role: "img", "aria-label": `Kaart ${group.name}`,
    });
    const box = document.createElement("figure");
    box.className = "map-box";
    box.style.margin = "0";
    if (titles) {
      const caption = document.createElement("h2");
      caption.textContent = group.name;
      box.append(caption);
    }
    box.append(root);
    container.append(box); // in the document now, so that the names can be measured
    const labels = [];
    for (const wijk of group.wijken) {
      const code = wijk.properties.wijkcode;
      const tint = highlight.get(code);
      root.append(svg("path", {
        d: pathOf(wijk, project), class: `wijk-shape${tint ? ` has-${tint.toLowerCase()}` : ""}`,
        "data-wijkcode": code,
      }, svg("title", { text: `${wijk.properties.name} (${code})` })));
      const b = boundsOf([wijk]);
      const [x, y] = project([(b.minLon + b.maxLon) / 2, b.maxLat]);
      labels.push(svg("text", { x: x.toFixed(0), y: (y + font * 1.3).toFixed(0), class: "wijk-label",
        "font-size": font.toFixed(0), "text-anchor": "middle", text: wijk.properties.name }));
    }
    for (const spot of group.hotspots) {
      const [x, y] = project(spot.geometry.coordinates);
      const hot = inHotTime(spot.properties.hot_times, now);
      root.append(svg("circle", {
        cx: x.toFixed(0), cy: y.toFixed(0), r: Math.max(spot.properties.radius_m * unitsPerMetre, font / 2).toFixed(0),
        class: `hotspot${hot ? " hot" : ""}`,
      }, svg("title", { text: `${spot.properties.name}: ${(spot.properties.offences || []).join(", ")} ` +
        `(${(spot.properties.hot_times || []).join(", ")})` })));
    }
    root.append(...labels);
    const labelBoxes = labels.map((text) => {
      const b = text.getBBox();
      const halo = font * 0.15;
      return { left: b.x - halo, right: b.x + b.width + halo, top: b.y - halo, bottom: b.y + b.height + halo };
    });
    const placed = markers
      .filter((marker) => marker.lon !== null && marker.lon !== undefined && insideBounds(group.bounds, marker))
      .map((marker) => {
        const [x, y] = project([marker.lon, marker.lat]);
        return { marker, at: [x, y], x, y };
      });
    spread(placed, markerR, labelBoxes, { width, height });
    // drawn last first, so that the lowest numbers (the most urgent) lie on top
    for (const { marker, at, x, y } of [...placed].reverse()) root.append(markerNode(marker, at, x, y, markerR));
  }
}

function markerNode(marker, [ax, ay], x, y, r) {
  const g = svg("g", { class: `marker-group${marker.offscreen ? " off" : ""}`, "data-incident": marker.id });
  if (Math.hypot(x - ax, y - ay) > r * 0.5) {
    g.append(svg("line", { x1: ax.toFixed(0), y1: ay.toFixed(0), x2: x.toFixed(0), y2: y.toFixed(0), class: "marker-leader" }),
      svg("circle", { cx: ax.toFixed(0), cy: ay.toFixed(0), r: (r / 6).toFixed(0), class: "marker-anchor" }));
  }
  if (marker.pulse) g.append(svg("circle", { cx: x.toFixed(0), cy: y.toFixed(0), r: r.toFixed(0), class: "marker-pulse" }));
  g.append(svg("circle", {
    cx: x.toFixed(0), cy: y.toFixed(0), r: r.toFixed(0),
    class: `marker u-${marker.urgency}${marker.approx ? " approx" : ""}${marker.offscreen ? " off" : ""}`,
  }, svg("title", { text: marker.title || "" })));
  if (marker.label !== undefined) {
    const digits = String(marker.label).length;
    g.append(svg("text", { x: x.toFixed(0), y: y.toFixed(0), class: "marker-label",
      "font-size": (r * (digits > 1 ? 1.05 : 1.3)).toFixed(0), text: String(marker.label) }));
  }
  return g;
}

/** Moves markers (in place) until none overlaps another or a wijk name, nudging each a little per round;
 *  they stay inside the map. Incidents in one spot fan out around it. */
function spread(placed, r, boxes, { width, height }) {
  const gap = r * 2.15;
  placed.forEach((p, i) => { // the same spot: start them on a small circle around it
    const twins = placed.filter((q, j) => j < i && Math.hypot(q.x - p.x, q.y - p.y) < 1);
    if (twins.length) {
      const angle = twins.length * 2.4;
      p.x += Math.cos(angle) * r;
      p.y += Math.sin(angle) * r;
    }
  });
  for (let round = 0; round < 150; round += 1) {
    let moved = false;
    for (let i = 0; i < placed.length; i += 1) {
      for (let j = i + 1; j < placed.length; j += 1) moved = separate(placed[i], placed[j], gap) || moved;
      for (const box of boxes) moved = leaveBox(placed[i], box, r) || moved;
      placed[i].x = Math.min(width - r, Math.max(r, placed[i].x));
      placed[i].y = Math.min(height - r, Math.max(r, placed[i].y));
    }
    if (!moved) return;
  }
}

function separate(a, b, gap) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const distance = Math.hypot(dx, dy);
  if (distance >= gap) return false;
  const [ux, uy] = distance > 0.01 ? [dx / distance, dy / distance] : [1, 0];
  const push = (gap - distance) / 2 + 0.5;
  a.x -= ux * push;
  a.y -= uy * push;
  b.x += ux * push;
  b.y += uy * push;
  return true;
}

/** Out of a name's box, up or down (whichever is nearer): names are wide, so that is the short way. */
function leaveBox(p, box, r) {
  const clear = r * 1.15; // the ring's stroke and a little air
  const nearX = Math.max(box.left, Math.min(p.x, box.right));
  const nearY = Math.max(box.top, Math.min(p.y, box.bottom));
  if (Math.hypot(p.x - nearX, p.y - nearY) >= clear) return false;
  const up = p.y - (box.top - clear);
  const down = box.bottom + clear - p.y;
  const roomAbove = box.top - clear >= r; // the map's edge would push it back in
  p.y = up < down && roomAbove ? box.top - clear - 0.5 : box.bottom + clear + 0.5;
  return true;
}

function insideBounds(bounds, { lon, lat }) {
  const padLon = (bounds.maxLon - bounds.minLon) * 0.08;
  const padLat = (bounds.maxLat - bounds.minLat) * 0.08;
  return lon >= bounds.minLon - padLon && lon <= bounds.maxLon + padLon &&
    lat >= bounds.minLat - padLat && lat <= bounds.maxLat + padLat;
}
