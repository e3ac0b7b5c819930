// The videowall's layout rules, apart from the DOM: the order of the incidents, how dense they are drawn,
// and how they are paged when even the densest layout cannot hold them all.

/** Densities from roomy to compact; the wall uses the first in which every incident fits. */
export const DENSITIES = ["cards", "dense", "rows"];

const isHandled = (incident) => Boolean(incident.claimed_by || incident.follow_up);

/** 0: a P1 nobody handles yet, 1: a P1 in handling, 2: the rest (P2). */
function group(incident) {
  if (incident.urgency !== "P1") return 2;
  return isHandled(incident) ? 1 : 0;
}

/** When it became news on this wall: raised to P1 here, or its first report. */
function newsAt(incident, newSince) {
  return Math.max(newSince.get(incident.incident_id) || 0, Date.parse(incident.first_report_at) || 0);
}

/** Unhandled P1 first, then P1 in handling, then P2; newest first within each. */
export function wallOrder(incidents, newSince) {
  return [...incidents].sort((a, b) => (group(a) - group(b)) || (newsAt(b, newSince) - newsAt(a, newSince)) ||
    (b.incident_id - a.incident_id));
}

/**
 * Splits the ordered incidents into pages of at most `capacity`. Every P1 is on every page (they lead the
 * order, so they stay on top) and the P2s share the room left; only when the P1s alone do not fit do they
 * page too, in order.
 */
export function pagesOf(ordered, capacity) {
  const room = Math.max(1, capacity);
  const p1 = ordered.filter((incident) => incident.urgency === "P1");
  if (p1.length >= room) return chunks(ordered, room);
  const rest = ordered.filter((incident) => incident.urgency !== "P1");
  return chunks(rest, room - p1.length).map((page) => [...p1, ...page]);
}

function chunks(list, size) {
  const result = [];
  for (let start = 0; start < list.length; start += size) result.push(list.slice(start, start + size));
  return result.length ? result : [[]];
}

/** How many of the container's children are inside it, from the first on (the grid fills row by row). */
export function visibleCount(container) {
  const limit = container.getBoundingClientRect().bottom + 1;
  let count = 0;
  for (const child of container.children) {
    if (child.hidden || child.getBoundingClientRect().bottom > limit) break;
    count += 1;
  }
  return count;
}
