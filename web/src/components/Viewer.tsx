import { createSignal, For, type JSX, onCleanup, onMount, Show } from "solid-js";
import { useApp } from "../context.tsx";
import { bookSpreads, keyTarget, step, swipeDirection, zoomStep } from "../lib/spreads.ts";
import { pageLabel } from "./labels.ts";

export interface ViewerProps {
  /** Page id → its web image (null while not drawn). */
  images: (page: string) => string | null;
  title: string;
  /** Each page's printed words, read as its picture's description, and their language. */
  story?: { text: (page: string) => string | null; lang: () => string | undefined };
  start?: number;
  onClose: () => void;
}

/** The book as spreads: front cover, pages 1–22 in pairs, back cover; keys, swipes and zoom. */
export function Viewer(props: ViewerProps): JSX.Element {
  const { t } = useApp();
  const spreads = bookSpreads();
  const [index, setIndex] = createSignal(props.start ?? 0);
  const [zoom, setZoom] = createSignal(1);
  let dialog!: HTMLDialogElement;
  const opener = document.activeElement as HTMLElement | null;
  onMount(() => {
    dialog.showModal();
    dialog.focus();
  });
  onCleanup(() => opener?.focus?.());

  const go = (i: number) => {
    setIndex(i);
    setZoom(1);
  };
  // At either end a button disables itself (the first spread, the largest zoom): focus moves to its
  // counterpart rather than falling to the page body.
  const pressed = (run: () => void) => (e: MouseEvent) => {
    const button = e.currentTarget as HTMLButtonElement;
    run();
    if (button.disabled && document.activeElement !== dialog)
      (button.parentElement?.querySelector<HTMLButtonElement>("button:enabled") ?? dialog).focus();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.target instanceof HTMLButtonElement && (e.key === " " || e.key === "Enter")) return;
    if (e.key === "+" || e.key === "=") return setZoom(zoomStep(zoom(), 1));
    if (e.key === "-") return setZoom(zoomStep(zoom(), -1));
    const target = keyTarget(e.key, index(), spreads.length);
    if (target !== null) {
      e.preventDefault();
      go(target);
    }
  };
  let startX = 0;
  let startY = 0;
  const onPointerDown = (e: PointerEvent) => {
    startX = e.clientX;
    startY = e.clientY;
  };
  const onPointerUp = (e: PointerEvent) => {
    if (zoom() > 1) return; // zoomed in: dragging pans instead
    const dir = swipeDirection(e.clientX - startX, e.clientY - startY);
    if (dir) go(step(index(), dir, spreads.length));
  };

  return (
    <dialog
      ref={dialog}
      class="viewer"
      aria-labelledby="viewer-title"
      aria-describedby="viewer-help"
      onKeyDown={onKey}
      onClose={() => props.onClose()}
    >
      <header>
        <h2 id="viewer-title">
          {props.title} — {t("viewer.position", { n: index() + 1, total: spreads.length })}
        </h2>
        <p id="viewer-help" class="visually-hidden">
          {t("viewer.help")}
        </p>
        <p class="visually-hidden" aria-live="polite" data-testid="viewer-position">
          {t("viewer.position", { n: index() + 1, total: spreads.length })}
        </p>
        <div class="tools">
          <button
            type="button"
            onClick={pressed(() => setZoom(zoomStep(zoom(), -1)))}
            disabled={zoom() <= 1}
            aria-label={t("viewer.zoomOut")}
          >
            −
          </button>
          <span aria-live="polite">{Math.round(zoom() * 100)}%</span>
          <button
            type="button"
            onClick={pressed(() => setZoom(zoomStep(zoom(), 1)))}
            disabled={zoom() >= 3}
            aria-label={t("viewer.zoomIn")}
          >
            +
          </button>
          <button type="button" onClick={() => dialog.close()} aria-label={t("viewer.close")}>
            ×
          </button>
        </div>
      </header>
      <section
        class="stage"
        // Zoomed in, the pages scroll: the area takes focus so keys can scroll it in every browser.
        tabindex={zoom() > 1 ? 0 : undefined}
        aria-label={props.title}
        onPointerDown={onPointerDown}
        onPointerUp={onPointerUp}
        style={{ "touch-action": zoom() > 1 ? "auto" : "pan-y" }}
      >
        <div
          class="spread"
          classList={{ single: spreads[index()]!.length === 1 }}
          // Only what changes is set here (through the CSSOM): a static style would be an inline
          // style attribute in Solid's template, which the app's Content-Security-Policy refuses.
          style={{ transform: `scale(${zoom()})` }}
          data-spread={index()}
        >
          <For each={spreads[index()]}>
            {(page) => (
              <Show
                when={props.images(page)}
                fallback={
                  <div class="page missing">
                    {pageLabel(t, page)}: {t("viewer.notReady")}
                  </div>
                }
              >
                {(src) => (
                  <>
                    <img
                      class="page"
                      src={src()}
                      alt={pageLabel(t, page)}
                      aria-describedby={props.story?.text(page) ? `words-${page}` : undefined}
                      draggable={false}
                    />
                    <Show when={props.story?.text(page)}>
                      {(words) => (
                        <p id={`words-${page}`} class="visually-hidden" lang={props.story?.lang()}>
                          {words()}
                        </p>
                      )}
                    </Show>
                  </>
                )}
              </Show>
            )}
          </For>
        </div>
      </section>
      <footer>
        <button type="button" onClick={pressed(() => go(step(index(), -1, spreads.length)))} disabled={index() === 0}>
          ← {t("viewer.prev")}
        </button>
        <button
          type="button"
          onClick={pressed(() => go(step(index(), 1, spreads.length)))}
          disabled={index() === spreads.length - 1}
        >
          {t("viewer.next")} →
        </button>
      </footer>
    </dialog>
  );
}
