// WCAG contrast for the e2e suite's focus checks: colours as Chromium's computed styles write them
// (`rgb(r, g, b)` / `rgba(r, g, b, a)`), layered backgrounds composited, relative luminance compared.

export interface Rgba {
  r: number;
  g: number;
  b: number;
  /** 0 (transparent) … 1 (opaque). */
  a: number;
}

/** Parses a computed colour; throws on any other form, so a check never passes on a colour it did not read. */
export function parseColor(css: string): Rgba {
  const m = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(css.trim());
  if (!m) {
    if (css.trim() === "transparent") return { r: 0, g: 0, b: 0, a: 0 };
    throw new Error(`not a computed sRGB colour: ${JSON.stringify(css)}`);
  }
  const alpha = m[4] === undefined ? 1 : m[4].endsWith("%") ? Number.parseFloat(m[4]) / 100 : Number(m[4]);
  return { r: Number(m[1]), g: Number(m[2]), b: Number(m[3]), a: alpha };
}

/** `top` painted over the opaque `under` (source-over). */
export function over(top: Rgba, under: Rgba): Rgba {
  const mix = (t: number, u: number) => t * top.a + u * (1 - top.a);
  return { r: mix(top.r, under.r), g: mix(top.g, under.g), b: mix(top.b, under.b), a: 1 };
}

/**
 * What is seen at a point: its backgrounds from the topmost down, composited over the canvas (white)
 * below the last one.
 */
export function seen(layers: string[], canvas = "rgb(255, 255, 255)"): Rgba {
  let colour = parseColor(canvas);
  for (const layer of [...layers].reverse()) colour = over(parseColor(layer), colour);
  return colour;
}

/** WCAG 2 relative luminance of an opaque colour. */
export function luminance({ r, g, b }: Rgba): number {
  const channel = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

/** The WCAG contrast ratio of two colours (1 … 21); a translucent `a` is first painted over `b`. */
export function contrast(a: Rgba, b: Rgba): number {
  const fg = a.a < 1 ? over(a, b) : a;
  const [hi, lo] = [luminance(fg), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}
