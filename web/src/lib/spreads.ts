// The book on the web (docs/book-format.md): the front cover's crop alone, pages 1–22 as two-page
// spreads (1-2 … 21-22), the back cover's crop alone. Pages 0 and 23 are print-only.

export type Spread = readonly string[];

/** The web page ids, in order, as views of one or two pages. */
export function bookSpreads(): Spread[] {
  const spreads: Spread[] = [["cover_front"]];
  for (let n = 1; n <= 21; n += 2) spreads.push([`page_${n}`, `page_${n + 1}`]);
  spreads.push(["cover_back"]);
  return spreads;
}

/** The spread showing a page, or 0 for a page the web does not show. */
export function spreadOf(page: string): number {
  const index = bookSpreads().findIndex((s) => s.includes(page));
  return Math.max(0, index);
}

/** Moves by `delta` spreads, staying inside the book. */
export function step(index: number, delta: number, count = bookSpreads().length): number {
  return Math.min(count - 1, Math.max(0, index + delta));
}

/** The spread a key press leads to, or null when the key is not a navigation key. */
export function keyTarget(key: string, index: number, count = bookSpreads().length): number | null {
  switch (key) {
    case "ArrowRight":
    case "PageDown":
    case " ":
      return step(index, 1, count);
    case "ArrowLeft":
    case "PageUp":
      return step(index, -1, count);
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}

/** A horizontal swipe of at least `min` px that is more sideways than vertical: +1 next, -1 previous, 0 none. */
export function swipeDirection(dx: number, dy: number, min = 40): -1 | 0 | 1 {
  if (Math.abs(dx) < min || Math.abs(dx) <= Math.abs(dy)) return 0;
  return dx < 0 ? 1 : -1;
}

/** Zoom levels the viewer steps through. */
export const ZOOM_LEVELS = [1, 1.5, 2, 3] as const;

export function zoomStep(current: number, delta: 1 | -1): number {
  const i = ZOOM_LEVELS.findIndex((z) => z >= current);
  const at = i < 0 ? ZOOM_LEVELS.length - 1 : i;
  return ZOOM_LEVELS[Math.min(ZOOM_LEVELS.length - 1, Math.max(0, at + delta))]!;
}
