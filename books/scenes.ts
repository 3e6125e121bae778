// Vector scenes for the demo books: flat shapes in SVG, one function per motif, seeded so every run
// draws the same pictures. A scene with a child also returns where the child's face is (the face slot).

import { seededRandom } from "@faceapp/core";

export type Time = "morning" | "day" | "evening" | "night";
export type Ground = "meadow" | "forest" | "mountains" | "sea" | "island" | "home" | "sky" | "lake";
export type Extra =
  | "house"
  | "kite"
  | "whale"
  | "hedgehog"
  | "fireflies"
  | "castle"
  | "oak"
  | "stream"
  | "window"
  | "boat";

export interface SceneSpec {
  time: Time;
  ground: Ground;
  /**
   * The child, if drawn: horizontal centre as a share of the width, size as a share of the height;
   * standing on the ground, flying, on the whale's back or sitting in the boat (the scene must have it).
   */
  child?: { x: number; scale: number; flying?: boolean; on?: "whale" | "boat" };
  extras?: Extra[];
  seed: number;
}

export interface Face {
  cx: number;
  cy: number;
  r: number;
}

/** Art no text may cover, in pixels of the scene. */
export interface KeepOut {
  label: string;
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Where the boat floats on a scene of width w: its centre and the line its deck is at. */
const boatAt = (w: number, h: number, horizon: number) => ({ x: w * 0.4, deck: horizon + h * 0.12 });
/** The whale's body: the child rides at its top. */
const whaleAt = (w: number, h: number, horizon: number) => ({
  cx: w * 0.62,
  cy: horizon + h * 0.12,
  rx: w * 0.22,
  ry: h * 0.08,
});

const SKIES: Record<Time, [string, string]> = {
  morning: ["#ffd6a5", "#fff1d6"],
  day: ["#7ec8f2", "#d9f1ff"],
  evening: ["#5b4b8a", "#f6a57a"],
  night: ["#0b1640", "#283a7a"],
};

const random = seededRandom;

/** The child's skin and the line its features are drawn in: the colours a face page names for its face. */
export const FACE_COLOURS = { skin: "#f2c9a0", line: "#222222" } as const;

const n = (x: number) => x.toFixed(1);

/** The SVG of a scene at w×h, the face slot when it has a child, and the art no text may cover. */
export function scene(w: number, h: number, spec: SceneSpec): { svg: string; face: Face | null; keepOut: KeepOut[] } {
  const rnd = random(spec.seed);
  const [top, bottom] = SKIES[spec.time];
  const dark = spec.time === "night" || spec.time === "evening";
  const parts: string[] = [
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${top}"/><stop offset="1" stop-color="${bottom}"/></linearGradient></defs>`,
    `<rect width="${w}" height="${h}" fill="url(#sky)"/>`,
  ];
  if (dark) {
    for (let i = 0; i < 90; i++) {
      parts.push(
        `<circle cx="${n(rnd() * w)}" cy="${n(rnd() * h * 0.55)}" r="${n(2 + rnd() * 6)}" fill="#fff7d1" fill-opacity="${n(0.5 + rnd() * 0.5)}"/>`,
      );
    }
    parts.push(`<circle cx="${n(w * 0.8)}" cy="${n(h * 0.16)}" r="${n(w * 0.06)}" fill="#fdf3c0"/>`);
    parts.push(`<circle cx="${n(w * 0.83)}" cy="${n(h * 0.145)}" r="${n(w * 0.055)}" fill="${top}"/>`);
  } else {
    parts.push(`<circle cx="${n(w * (0.15 + rnd() * 0.7))}" cy="${n(h * 0.15)}" r="${n(w * 0.07)}" fill="#ffd23f"/>`);
    for (let i = 0; i < 3; i++) parts.push(cloud(w * rnd(), h * (0.08 + rnd() * 0.2), w * (0.08 + rnd() * 0.06)));
  }

  const horizon = h * (spec.ground === "sky" ? 0.9 : 0.62);
  parts.push(ground(spec.ground, w, h, horizon, rnd, dark));
  // The moon is drawn at (0.8 w, 0.16 h): text goes beside it.
  const keepOut: KeepOut[] = dark
    ? [{ label: "moon", left: w * 0.73, top: h * 0.09, width: w * 0.14, height: h * 0.14 }]
    : [];
  // The boat's hull is drawn over the child sitting in it.
  let inFront = "";
  for (const extra of spec.extras ?? []) {
    const drawn = drawExtra(extra, w, h, horizon, rnd);
    if (extra === "boat") inFront = drawn.svg;
    else parts.push(drawn.svg);
    if (drawn.keep) keepOut.push({ label: extra, ...drawn.keep });
  }

  let face: Face | null = null;
  if (spec.child) {
    if (spec.child.on && !spec.extras?.includes(spec.child.on))
      throw new Error(`a child on the ${spec.child.on} needs the ${spec.child.on} in the scene`);
    const c = child(w, h, horizon, spec.child, rnd);
    parts.push(c.svg);
    face = c.face;
    keepOut.push({ label: "child", ...c.keep });
  }
  parts.push(inFront);
  return {
    svg: `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">${parts.join("")}</svg>`,
    face,
    keepOut,
  };
}

/** The face mask: white over the face slot, black elsewhere (the face engine feathers its edge). */
export function maskSvg(w: number, h: number, face: Face): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="#000"/><ellipse cx="${n(face.cx)}" cy="${n(face.cy)}" rx="${n(face.r * 1.15)}" ry="${n(face.r * 1.3)}" fill="#fff"/></svg>`;
}

function cloud(x: number, y: number, s: number) {
  return `<g fill="#ffffff" fill-opacity="0.92"><ellipse cx="${n(x)}" cy="${n(y)}" rx="${n(s)}" ry="${n(s * 0.45)}"/><ellipse cx="${n(x - s * 0.5)}" cy="${n(y + s * 0.1)}" rx="${n(s * 0.6)}" ry="${n(s * 0.35)}"/><ellipse cx="${n(x + s * 0.55)}" cy="${n(y + s * 0.08)}" rx="${n(s * 0.55)}" ry="${n(s * 0.33)}"/></g>`;
}

function hills(w: number, h: number, y: number, colour: string, amp: number, rnd: () => number) {
  const a = y - amp * rnd();
  const b = y - amp * rnd();
  return `<path d="M0 ${n(a)} Q ${n(w * 0.25)} ${n(y - amp)} ${n(w * 0.5)} ${n(b)} T ${n(w)} ${n(y - amp * 0.5 * rnd())} L ${w} ${h} L 0 ${h} Z" fill="${colour}"/>`;
}

function tree(x: number, base: number, s: number, pine: boolean, dark: boolean) {
  const leaf = dark ? "#1f5a3a" : "#3fa34d";
  if (pine) {
    return `<g><rect x="${n(x - s * 0.06)}" y="${n(base - s * 0.3)}" width="${n(s * 0.12)}" height="${n(s * 0.3)}" fill="#7a4b2a"/><path d="M ${n(x)} ${n(base - s * 1.4)} L ${n(x + s * 0.45)} ${n(base - s * 0.25)} L ${n(x - s * 0.45)} ${n(base - s * 0.25)} Z" fill="${leaf}"/></g>`;
  }
  return `<g><rect x="${n(x - s * 0.07)}" y="${n(base - s * 0.5)}" width="${n(s * 0.14)}" height="${n(s * 0.5)}" fill="#7a4b2a"/><circle cx="${n(x)}" cy="${n(base - s * 0.8)}" r="${n(s * 0.42)}" fill="${leaf}"/><circle cx="${n(x - s * 0.25)}" cy="${n(base - s * 0.6)}" r="${n(s * 0.3)}" fill="${leaf}"/><circle cx="${n(x + s * 0.27)}" cy="${n(base - s * 0.62)}" r="${n(s * 0.3)}" fill="${leaf}"/></g>`;
}

function ground(kind: Ground, w: number, h: number, y: number, rnd: () => number, dark: boolean): string {
  const green = dark ? "#2f6b45" : "#7cc96b";
  const green2 = dark ? "#24553a" : "#5fb35a";
  const out: string[] = [];
  switch (kind) {
    case "meadow":
    case "home":
      out.push(hills(w, h, y, green, h * 0.08, rnd), hills(w, h, y + h * 0.12, green2, h * 0.05, rnd));
      for (let i = 0; i < 60; i++) {
        const colour = ["#ff6b9a", "#ffd23f", "#ffffff", "#b48cff"][i % 4];
        out.push(
          `<circle cx="${n(rnd() * w)}" cy="${n(y + h * 0.1 + rnd() * h * 0.28)}" r="${n(8 + rnd() * 10)}" fill="${colour}"/>`,
        );
      }
      break;
    case "forest":
      out.push(hills(w, h, y, green2, h * 0.04, rnd));
      for (let i = 0; i < 9; i++)
        out.push(tree(w * (i / 8), y + h * 0.02, h * (0.28 + rnd() * 0.12), i % 2 === 0, dark));
      out.push(hills(w, h, y + h * 0.15, green, h * 0.03, rnd));
      break;
    case "mountains":
      for (let i = 0; i < 4; i++) {
        const x = w * (i / 3);
        const peak = y - h * (0.2 + rnd() * 0.15);
        out.push(
          `<path d="M ${n(x - w * 0.3)} ${n(y + 5)} L ${n(x)} ${n(peak)} L ${n(x + w * 0.3)} ${n(y + 5)} Z" fill="${i % 2 ? "#8a8fb5" : "#6d7299"}"/>`,
        );
        out.push(
          `<path d="M ${n(x - w * 0.07)} ${n(peak + h * 0.07)} L ${n(x)} ${n(peak)} L ${n(x + w * 0.07)} ${n(peak + h * 0.07)} Z" fill="#ffffff"/>`,
        );
      }
      out.push(hills(w, h, y + h * 0.04, green, h * 0.04, rnd));
      break;
    case "sea":
    case "island":
    case "lake": {
      const water = kind === "lake" ? "#1d3b7a" : dark ? "#1e4d7a" : "#3aa0d8";
      out.push(`<rect x="0" y="${n(y)}" width="${w}" height="${n(h - y)}" fill="${water}"/>`);
      for (let i = 0; i < 14; i++) {
        const wy = y + h * 0.03 + rnd() * (h - y) * 0.6;
        const wx = rnd() * w;
        out.push(
          `<path d="M ${n(wx)} ${n(wy)} q ${n(w * 0.03)} ${n(-h * 0.015)} ${n(w * 0.06)} 0 t ${n(w * 0.06)} 0" stroke="#ffffff" stroke-width="8" fill="none" stroke-opacity="0.6"/>`,
        );
      }
      if (kind === "lake") {
        for (let i = 0; i < 40; i++)
          out.push(
            `<circle cx="${n(rnd() * w)}" cy="${n(y + rnd() * (h - y) * 0.5)}" r="${n(4 + rnd() * 8)}" fill="#fff7a8"/>`,
          );
      }
      const sandTop = kind === "island" ? y + h * 0.12 : h * 0.86;
      out.push(
        `<path d="M 0 ${n(sandTop)} Q ${n(w * 0.5)} ${n(sandTop - h * 0.06)} ${w} ${n(sandTop)} L ${w} ${h} L 0 ${h} Z" fill="${kind === "lake" ? green2 : "#f3d9a4"}"/>`,
      );
      break;
    }
    case "sky":
      for (let i = 0; i < 4; i++) out.push(cloud(w * rnd(), h * (0.4 + rnd() * 0.45), w * (0.1 + rnd() * 0.08)));
      out.push(hills(w, h, y, green, h * 0.05, rnd));
      break;
  }
  return out.join("");
}

type Box = Omit<KeepOut, "label">;
const box = (left: number, top: number, right: number, bottom: number): Box => ({
  left,
  top,
  width: right - left,
  height: bottom - top,
});

function drawExtra(extra: Extra, w: number, h: number, y: number, rnd: () => number): { svg: string; keep?: Box } {
  switch (extra) {
    case "house":
      return {
        keep: box(w * 0.06, y - h * 0.22, w * 0.3, y + h * 0.04),
        svg: `<g><rect x="${n(w * 0.08)}" y="${n(y - h * 0.12)}" width="${n(w * 0.2)}" height="${n(h * 0.16)}" fill="#f2a65a"/><path d="M ${n(w * 0.06)} ${n(y - h * 0.12)} L ${n(w * 0.18)} ${n(y - h * 0.22)} L ${n(w * 0.3)} ${n(y - h * 0.12)} Z" fill="#c8553d"/><rect x="${n(w * 0.12)}" y="${n(y - h * 0.09)}" width="${n(w * 0.05)}" height="${n(h * 0.05)}" fill="#fff3b0"/><rect x="${n(w * 0.2)}" y="${n(y - h * 0.06)}" width="${n(w * 0.045)}" height="${n(h * 0.1)}" fill="#7a4b2a"/></g>`,
      };
    case "window":
      return {
        svg: `<g><rect x="${n(w * 0.05)}" y="${n(h * 0.05)}" width="${n(w * 0.9)}" height="${n(h * 0.6)}" fill="none" stroke="#b07d4f" stroke-width="${n(w * 0.03)}"/><line x1="${n(w * 0.5)}" y1="${n(h * 0.05)}" x2="${n(w * 0.5)}" y2="${n(h * 0.65)}" stroke="#b07d4f" stroke-width="${n(w * 0.015)}"/></g>`,
      };
    case "kite": {
      // Below the band where text goes at the top of a page.
      const x = w * (0.62 + rnd() * 0.2);
      const k = h * 0.4;
      return {
        keep: box(x - 100, k - 130, x + 100, k + 650),
        svg: `<g><path d="M ${n(x)} ${n(k - 120)} L ${n(x + 90)} ${n(k)} L ${n(x)} ${n(k + 160)} L ${n(x - 90)} ${n(k)} Z" fill="#ff5d8f" stroke="#7a2048" stroke-width="8"/><path d="M ${n(x)} ${n(k + 160)} q 60 120 0 240 t 0 240" stroke="#7a2048" stroke-width="8" fill="none"/></g>`,
      };
    }
    case "whale": {
      const wh = whaleAt(w, h, y);
      return {
        keep: box(wh.cx - wh.rx, wh.cy - wh.ry - h * 0.06, wh.cx + wh.rx + w * 0.1, wh.cy + wh.ry),
        svg: `<g><ellipse cx="${n(w * 0.62)}" cy="${n(y + h * 0.12)}" rx="${n(w * 0.22)}" ry="${n(h * 0.08)}" fill="#4a6fa5"/><path d="M ${n(w * 0.82)} ${n(y + h * 0.1)} l ${n(w * 0.1)} ${n(-h * 0.07)} l 0 ${n(h * 0.12)} Z" fill="#4a6fa5"/><circle cx="${n(w * 0.48)}" cy="${n(y + h * 0.1)}" r="14" fill="#111"/><path d="M ${n(w * 0.55)} ${n(y + h * 0.03)} q -20 -90 -60 -120 M ${n(w * 0.55)} ${n(y + h * 0.03)} q 20 -90 60 -120" stroke="#bfe6ff" stroke-width="14" fill="none"/></g>`,
      };
    }
    case "hedgehog": {
      const x = w * 0.72;
      const b = y + h * 0.2;
      return {
        keep: box(x - 160, b - 120, x + 215, b + 100),
        svg: `<g><ellipse cx="${n(x)}" cy="${n(b)}" rx="150" ry="95" fill="#6b4f3a"/><path d="M ${n(x - 150)} ${n(b)} l 30 -110 l 40 60 l 40 -90 l 40 70 l 45 -80 l 30 80 l 40 -50 l 20 110 Z" fill="#4a3526"/><ellipse cx="${n(x + 135)}" cy="${n(b + 10)}" rx="60" ry="45" fill="#d9b38c"/><circle cx="${n(x + 150)}" cy="${n(b - 5)}" r="9" fill="#111"/><circle cx="${n(x + 195)}" cy="${n(b + 12)}" r="12" fill="#111"/></g>`,
      };
    }
    case "fireflies": {
      const out: string[] = [];
      // Solid circles: librsvg draws a gradient with transparency about a hundred times slower.
      for (let i = 0; i < 30; i++) {
        const [x, y, r] = [rnd() * w, h * 0.2 + rnd() * h * 0.6, 20 + rnd() * 25];
        out.push(
          `<circle cx="${n(x)}" cy="${n(y)}" r="${n(r * 1.8)}" fill="#ffe66d" fill-opacity="0.25"/><circle cx="${n(x)}" cy="${n(y)}" r="${n(r * 0.7)}" fill="#fffbb0"/>`,
        );
      }
      return { svg: out.join("") };
    }
    case "castle": {
      const x = w * 0.18;
      const b = h * 0.9;
      return {
        keep: box(x - 55, b - 500, x + 420, b),
        svg: `<g fill="#e9c46a"><rect x="${n(x)}" y="${n(b - 260)}" width="380" height="260"/><rect x="${n(x - 40)}" y="${n(b - 380)}" width="110" height="380"/><rect x="${n(x + 310)}" y="${n(b - 380)}" width="110" height="380"/><path d="M ${n(x - 55)} ${n(b - 380)} l 70 -120 l 70 120 Z M ${n(x + 295)} ${n(b - 380)} l 70 -120 l 70 120 Z" fill="#e76f51"/><rect x="${n(x + 150)}" y="${n(b - 140)}" width="80" height="140" fill="#9c6644"/></g>`,
      };
    }
    case "oak":
      return {
        keep: box(0, y - h * 0.38 - w * 0.17, w * 0.38, y + h * 0.1),
        svg: `<g><rect x="${n(w * 0.12)}" y="${n(y - h * 0.3)}" width="${n(w * 0.09)}" height="${n(h * 0.4)}" fill="#6b4226"/><circle cx="${n(w * 0.165)}" cy="${n(y - h * 0.38)}" r="${n(w * 0.17)}" fill="#2d6a4f"/><circle cx="${n(w * 0.06)}" cy="${n(y - h * 0.3)}" r="${n(w * 0.1)}" fill="#40916c"/><circle cx="${n(w * 0.28)}" cy="${n(y - h * 0.3)}" r="${n(w * 0.1)}" fill="#40916c"/><circle cx="${n(w * 0.15)}" cy="${n(y - h * 0.2)}" r="14" fill="#111"/><circle cx="${n(w * 0.185)}" cy="${n(y - h * 0.2)}" r="14" fill="#111"/></g>`,
      };
    case "stream":
      return {
        svg: `<path d="M ${n(w * 0.3)} ${n(y)} C ${n(w * 0.5)} ${n(y + h * 0.1)} ${n(w * 0.2)} ${n(y + h * 0.2)} ${n(w * 0.45)} ${h} L ${n(w * 0.65)} ${h} C ${n(w * 0.4)} ${n(y + h * 0.2)} ${n(w * 0.7)} ${n(y + h * 0.1)} ${n(w * 0.4)} ${n(y)} Z" fill="#5fb4e5"/>`,
      };
    case "boat": {
      const { x, deck } = boatAt(w, h, y);
      const half = w * 0.17;
      return {
        keep: box(x - half, deck - h * 0.03, x + half, deck + h * 0.1),
        svg: `<g><path d="M ${n(x - half)} ${n(deck)} L ${n(x + half)} ${n(deck)} L ${n(x + half * 0.75)} ${n(deck + h * 0.09)} L ${n(x - half * 0.75)} ${n(deck + h * 0.09)} Z" fill="#b5651d" stroke="#6b3a12" stroke-width="10"/><rect x="${n(x - half)}" y="${n(deck - 14)}" width="${n(half * 2)}" height="28" rx="14" fill="#8b4513"/></g>`,
      };
    }
  }
}

/** A child in flat style: the head is the face slot. */
function child(w: number, h: number, horizon: number, c: NonNullable<SceneSpec["child"]>, rnd: () => number) {
  const size = h * c.scale;
  // On the whale the child stands on its back; in the boat, sits in it with the hull in front.
  const whale = whaleAt(w, h, horizon);
  const boat = boatAt(w, h, horizon);
  const x = c.on === "whale" ? whale.cx - w * 0.04 : c.on === "boat" ? boat.x : w * c.x;
  const feet =
    c.on === "whale"
      ? whale.cy - whale.ry * 0.97
      : c.on === "boat"
        ? boat.deck + size * 0.22
        : c.flying
          ? horizon - h * 0.1
          : Math.min(horizon + h * 0.22, h * 0.9);
  const r = size * 0.13;
  const headY = feet - size + r;
  const shirt = ["#e63946", "#f4a261", "#2a9d8f", "#8338ec"][Math.floor(rnd() * 4)]!;
  const svg = `<g>
<rect x="${n(x - size * 0.09)}" y="${n(feet - size * 0.32)}" width="${n(size * 0.07)}" height="${n(size * 0.32)}" fill="#264653"/>
<rect x="${n(x + size * 0.02)}" y="${n(feet - size * 0.32)}" width="${n(size * 0.07)}" height="${n(size * 0.32)}" fill="#264653"/>
<path d="M ${n(x - size * 0.17)} ${n(feet - size * 0.3)} L ${n(x - size * 0.11)} ${n(headY + r * 1.1)} L ${n(x + size * 0.11)} ${n(headY + r * 1.1)} L ${n(x + size * 0.17)} ${n(feet - size * 0.3)} Z" fill="${shirt}"/>
<path d="M ${n(x - size * 0.11)} ${n(headY + r * 1.4)} l ${n(-size * 0.14)} ${n(size * 0.18)} M ${n(x + size * 0.11)} ${n(headY + r * 1.4)} l ${n(size * 0.14)} ${n(-size * 0.12)}" stroke="${FACE_COLOURS.skin}" stroke-width="${n(size * 0.045)}" stroke-linecap="round"/>
<path d="M ${n(x - r * 1.05)} ${n(headY)} A ${n(r * 1.05)} ${n(r * 1.1)} 0 0 1 ${n(x + r * 1.05)} ${n(headY)} Z" fill="#6f4e37"/>
<circle cx="${n(x)}" cy="${n(headY + r * 0.08)}" r="${n(r)}" fill="${FACE_COLOURS.skin}"/>
<circle cx="${n(x - r * 0.35)}" cy="${n(headY)}" r="${n(r * 0.09)}" fill="${FACE_COLOURS.line}"/><circle cx="${n(x + r * 0.35)}" cy="${n(headY)}" r="${n(r * 0.09)}" fill="${FACE_COLOURS.line}"/>
<path d="M ${n(x - r * 0.35)} ${n(headY + r * 0.4)} q ${n(r * 0.35)} ${n(r * 0.3)} ${n(r * 0.7)} 0" stroke="#9d4b3a" stroke-width="${n(r * 0.08)}" fill="none" stroke-linecap="round"/>
<path d="M ${n(x - r)} ${n(headY - r * 0.1)} Q ${n(x)} ${n(headY - r * 1.3)} ${n(x + r)} ${n(headY - r * 0.1)} Q ${n(x)} ${n(headY - r * 0.6)} ${n(x - r)} ${n(headY - r * 0.1)} Z" fill="#6f4e37"/>
</g>`;
  const reach = size * 0.27;
  return {
    svg,
    face: { cx: x, cy: headY + r * 0.08, r },
    keep: box(x - reach, headY - r * 1.3, x + reach, feet),
  };
}
