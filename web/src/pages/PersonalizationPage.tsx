import { A, useParams } from "@solidjs/router";
import { createEffect, createMemo, createResource, createSignal, For, type JSX, on, onCleanup, Show } from "solid-js";
import type { Operations } from "../api/client.ts";
import { pageLabel } from "../components/labels.ts";
import { PhotoPicker } from "../components/PhotoPicker.tsx";
import { Viewer } from "../components/Viewer.tsx";
import { useApp, useTitle } from "../context.tsx";
import { corrections, type NamePreview, NameForms } from "../components/NameForms.tsx";
import { nameAfterFor, needsGender, normalizeName, parseAge, validName } from "../lib/child.ts";
import { createEventStream } from "../lib/event-stream.ts";
import { isMessageKey } from "../lib/i18n.ts";
import { queueText } from "../lib/queue.ts";
import {
  actions,
  applyEvent,
  bookProgress,
  fromView,
  type LivePage,
  type LiveState,
  sortedPages,
  withView,
} from "../lib/live.ts";

const FILES = [
  ["block.pdf", "files.block"],
  ["cover.pdf", "files.cover"],
  ["pages.zip", "files.pages"],
] as const;

type Gender = NonNullable<Operations["POST /v1/personalizations/{id}/generate"]["body"]["childGender"]>;

export function PersonalizationPage(): JSX.Element {
  const { api, t, errorText, lang } = useApp();
  const params = useParams<{ id: string }>();
  const [view, { refetch }] = createResource(
    () => params.id,
    (id) => api.call("GET /v1/personalizations/{id}", { params: { id } }),
  );
  const [live, setLive] = createSignal<LiveState | null>(null);
  // The stream starts after the last event the first view already shows: a screen reader hears what
  // happens next, not the book's earlier stages replayed (and the status never walks back through them).
  const [streamFrom, setStreamFrom] = createSignal<{ id: string; after: string | null } | null>(null);
  createEffect(
    on(view, (v) => {
      if (!v) return;
      setLive((prev) => (prev && prev.id === v.id ? withView(prev, v) : fromView(v)));
      if (streamFrom()?.id !== v.id) setStreamFrom({ id: v.id, after: v.lastEventId });
    }),
  );
  // Status changes: fetch the view once a burst of events (a replay) has passed.
  let pending: ReturnType<typeof setTimeout> | undefined;
  const refetchSoon = () => {
    clearTimeout(pending);
    pending = setTimeout(() => void refetch(), 100);
  };
  onCleanup(() => clearTimeout(pending));
  // The live view after the first view's events; the browser resumes after drops by itself.
  const streamUrl = createMemo(() => {
    const from = streamFrom();
    if (!from) return null;
    return api.url(
      "GET /v1/personalizations/{id}/events",
      { id: from.id },
      from.after === null ? undefined : { after: from.after },
    );
  });
  const stream = createEventStream({
    url: streamUrl,
    onEvent: (event) => {
      setLive((s) => (s ? applyEvent(s, event) : s));
      if (event.type === "status") refetchSoon();
    },
  });

  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const [replacing, setReplacing] = createSignal(false);
  const [viewerAt, setViewerAt] = createSignal<number | null>(null);
  let statusLine: HTMLParagraphElement | undefined;
  // The button just used is often gone with the old state (the form after "Make my preview", the
  // actions after "Make the full book"): focus goes to the status that changed, never to the body.
  const refocus = () =>
    queueMicrotask(() => {
      const at = document.activeElement;
      if (!at || at === document.body || !at.isConnected) statusLine?.focus();
    });
  createEffect(on(() => live()?.status, refocus, { defer: true }));
  // While a request is out the buttons say so (aria-disabled) but stay focusable: a disabled button
  // drops the focus it holds to the body.
  const act = async (run: () => Promise<unknown>) => {
    if (busy()) return;
    setBusy(true);
    setError(null);
    try {
      await run();
      await refetch();
      refocus();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const id = () => params.id;
  const statusText = (status: string) => {
    const key = `status.${status}`;
    return isMessageKey(key) ? t(key) : status;
  };
  const current = () => (view.error ? undefined : view.latest);
  useTitle(() => {
    const v = current();
    if (!v) return null;
    // Whose book it is, in the same words as the heading ("… для Соломії").
    return v.childName
      ? `${v.book.title} ${t("myBooks.forChild", { name: nameAfterFor(lang(), v.childName, v.childNameForms) })}`
      : v.book.title;
  });
  // Each page's printed words (the child's name in them) describe its picture, in the book's language.
  const words = createMemo(() => new Map((current()?.pages ?? []).map((p) => [p.page, p.text])));
  const story = {
    text: (page: string) => words().get(page) ?? null,
    lang: () => current()?.book.language ?? undefined,
  };
  const fileName = (name: string) => current()?.files.find((f) => f.name === name)?.fileName ?? name;

  return (
    <Show when={!view.error} fallback={<p role="alert">{errorText(view.error)}</p>}>
      <Show when={live()} fallback={<p aria-busy="true">{t("loading")}</p>}>
        {(s) => {
          const can = () => actions(s());
          /** A preview page the likeness check flagged: the redraw is offered in words beside its button. */
          const unlike = () => s().status === "preview_ready" && Object.values(s().pages).some((p) => p.flagged);
          const title = () => view()?.book.title ?? "";
          return (
            <section class="personalization" aria-labelledby="p-title" data-status={s().status}>
              <h1 id="p-title">
                {title()}
                <Show when={s().childName}>
                  {(name) => (
                    <span class="for">
                      {" "}
                      — {t("myBooks.forChild", { name: nameAfterFor(lang(), name(), s().childNameForms) })}
                    </span>
                  )}
                </Show>
              </h1>
              <p class="status" role="status" aria-live="polite" data-testid="status" tabindex="-1" ref={statusLine}>
                {statusText(s().status)}
                <Show when={stream() === "reconnecting"}>
                  <span class="stream"> · {t("preview.reconnecting")}</span>
                </Show>
              </p>
              <Show when={s().error ?? (s().status === "analysis_failed" ? null : s().failureReason)}>
                {(message) => (
                  <p class="error" role="alert">
                    {message()}
                  </p>
                )}
              </Show>

              <AnalysisPanel state={s()} />

              <Show when={(s().status === "analysis_failed" || replacing()) && can().replacePhoto}>
                <section class="panel" aria-labelledby="replace-title">
                  <h2 id="replace-title">{t("photo.replace")}</h2>
                  <PhotoPicker
                    label={t("photo.choose")}
                    onUploaded={(photoUploadId) =>
                      act(async () => {
                        await api.call("PUT /v1/personalizations/{id}/photo", {
                          params: { id: id() },
                          body: { photoUploadId },
                        });
                        setReplacing(false);
                      })
                    }
                  />
                </section>
              </Show>

              <Show when={can().enterName}>
                <ChildForm
                  bookSlug={view()?.book.slug ?? ""}
                  askGender={needsGender(s().analysis)}
                  busy={busy()}
                  onSubmit={(body) =>
                    act(() => api.call("POST /v1/personalizations/{id}/generate", { params: { id: id() }, body }))
                  }
                />
              </Show>

              <Show when={Object.keys(s().pages).length > 0}>
                <PagesPanel
                  state={s()}
                  story={story}
                  canRedraw={s().status === "preview_ready" && can().regenerate}
                  onOpen={(i) => setViewerAt(i)}
                />
              </Show>

              <div class="actions">
                <Show when={can().view}>
                  <button type="button" onClick={() => setViewerAt(0)}>
                    {t("preview.open")}
                  </button>
                </Show>
                <Show when={s().status === "preview_ready"}>
                  <button
                    type="button"
                    disabled={!can().regenerate}
                    aria-disabled={busy()}
                    aria-describedby={unlike() && can().regenerate ? "unlike-hint" : undefined}
                    onClick={() =>
                      act(() => api.call("POST /v1/personalizations/{id}/regenerate", { params: { id: id() } }))
                    }
                  >
                    {s().regenerationsLeft > 0
                      ? t("preview.regenerate", { n: s().regenerationsLeft })
                      : t("preview.regenerateNone")}
                  </button>
                  <Show when={unlike() && can().regenerate}>
                    <small id="unlike-hint" data-testid="unlike-hint">
                      {t("preview.unlikeHint")}
                    </small>
                  </Show>
                </Show>
                <Show when={can().replacePhoto && s().status !== "analysis_failed" && !replacing()}>
                  <button type="button" aria-disabled={busy()} onClick={() => busy() || setReplacing(true)}>
                    {t("photo.replace")}
                  </button>
                </Show>
                <Show when={can().confirm}>
                  <button
                    type="button"
                    class="primary"
                    aria-disabled={busy()}
                    aria-describedby="confirm-hint"
                    onClick={() =>
                      act(() => api.call("POST /v1/personalizations/{id}/confirm", { params: { id: id() } }))
                    }
                  >
                    {t("preview.confirm")}
                  </button>
                  <small id="confirm-hint">{t("preview.confirmHint")}</small>
                </Show>
                <Show when={can().cancel}>
                  <button
                    type="button"
                    class="danger"
                    aria-disabled={busy()}
                    onClick={() => {
                      if (!busy() && window.confirm(t("preview.cancelConfirm")))
                        void act(() => api.call("POST /v1/personalizations/{id}/cancel", { params: { id: id() } }));
                    }}
                  >
                    {t("preview.cancel")}
                  </button>
                </Show>
              </div>
              <p class="error" role="alert">
                {error()}
              </p>

              <Show when={s().status === "full_generating" || s().status === "completed"}>
                <section class="panel" aria-labelledby="files-title">
                  <h2 id="files-title">{t("files.title")}</h2>
                  <Show when={can().download} fallback={<p aria-busy="true">{t("files.waiting")}</p>}>
                    <ul class="files">
                      <For each={FILES.filter(([name]) => s().files.includes(name))}>
                        {([name, label]) => (
                          <li>
                            {/* The store answers with Content-Disposition: attachment and the file's name. */}
                            <a
                              href={api.url("GET /v1/personalizations/{id}/files/{name}", { id: id(), name })}
                              download=""
                              data-file={name}
                            >
                              {t(label)}: <span class="file-name">{fileName(name)}</span>
                            </a>
                          </li>
                        )}
                      </For>
                    </ul>
                  </Show>
                </section>
              </Show>

              <Show when={viewerAt() !== null}>
                <Viewer
                  title={title()}
                  start={viewerAt() ?? 0}
                  images={(page) => s().pages[page]?.webUrl ?? null}
                  story={story}
                  onClose={() => setViewerAt(null)}
                />
              </Show>
              <p>
                <A href="/my-books">{t("nav.myBooks")}</A>
              </p>
            </section>
          );
        }}
      </Show>
    </Show>
  );
}

function AnalysisPanel(props: { state: LiveState }): JSX.Element {
  const { t } = useApp();
  const a = () => props.state.analysis;
  return (
    <section class="panel" aria-labelledby="analysis-title" data-testid="analysis">
      <h2 id="analysis-title">{t("analysis.title")}</h2>
      <Show when={a()} fallback={<p aria-busy="true">{t("analysis.waiting")}</p>}>
        {(analysis) => (
          <Show
            when={analysis().ok}
            fallback={
              <div class="refused" data-testid="refused">
                <p>
                  <strong>{t("analysis.refused")}</strong> {analysis().reason}
                </p>
                <p>{t("analysis.tryAnother")}</p>
              </div>
            }
          >
            <p class="ok" data-testid="analysis-ok">
              <strong>{t("analysis.ok")}</strong>
              <Show when={analysis().description?.line}>
                {(line) => <> {t("analysis.described", { line: line() })}</>}
              </Show>
            </p>
          </Show>
        )}
      </Show>
    </section>
  );
}

function ChildForm(props: {
  bookSlug: string;
  askGender: boolean;
  busy: boolean;
  onSubmit: (body: {
    childName: string;
    childAge?: number;
    childGender?: Gender;
    childNameForms?: Record<string, string>;
  }) => void;
}): JSX.Element {
  const { t } = useApp();
  const [problem, setProblem] = createSignal<string | null>(null);
  const [name, setName] = createSignal("");
  const [gender, setGender] = createSignal<Gender | undefined>();
  const [preview, setPreview] = createSignal<NamePreview | undefined>();
  // Where the book's language declines the name, the gender is asked, the library's guess preselected.
  const checkedGender = () => gender() ?? preview()?.gender ?? undefined;
  return (
    <section class="panel" aria-labelledby="child-title">
      <h2 id="child-title">{t("child.title")}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const name = String(form.get("childName") ?? "");
          const age = parseAge(String(form.get("childAge") ?? ""));
          if (!validName(name) || Number.isNaN(age)) {
            setProblem(t("child.nameInvalid"));
            return;
          }
          setProblem(null);
          const gender = form.get("childGender");
          const fixed = corrections(form, preview());
          props.onSubmit({
            childName: normalizeName(name),
            ...(age !== undefined ? { childAge: age } : {}),
            ...(typeof gender === "string" && gender ? { childGender: gender as Gender } : {}),
            ...(Object.keys(fixed).length > 0 ? { childNameForms: fixed } : {}),
          });
        }}
      >
        <label for="childName">{t("child.name")}</label>
        <input
          id="childName"
          name="childName"
          required
          maxLength={40}
          autocomplete="off"
          aria-describedby="name-hint child-problem"
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <small id="name-hint">{t("child.nameHint")}</small>
        <label for="childAge">{t("child.age")}</label>
        <input id="childAge" name="childAge" type="number" min="0" max="18" step="1" inputmode="numeric" />
        <Show when={props.askGender || preview()?.needsGender}>
          <fieldset>
            <legend>{t("child.gender")}</legend>
            <For each={["girl", "boy", "unspecified"] as const}>
              {(g) => (
                <label class="inline">
                  <input
                    type="radio"
                    name="childGender"
                    value={g}
                    required
                    checked={checkedGender() === g}
                    onChange={() => setGender(g)}
                  />{" "}
                  {t(`child.gender.${g}`)}
                </label>
              )}
            </For>
          </fieldset>
        </Show>
        <Show when={props.bookSlug}>
          <NameForms slug={props.bookSlug} name={name()} gender={gender()} onPreview={setPreview} />
        </Show>
        <p id="child-problem" class="error" role="alert">
          {problem()}
        </p>
        <button type="submit" class="primary" aria-disabled={props.busy}>
          {t("child.submit")}
        </button>
      </form>
    </section>
  );
}

export interface Story {
  text: (page: string) => string | null;
  lang: () => string | undefined;
}

function PagesPanel(props: {
  state: LiveState;
  story: Story;
  canRedraw: boolean;
  onOpen: (spread: number) => void;
}): JSX.Element {
  const { t, lang } = useApp();
  const preview = () => sortedPages(props.state, "preview");
  const count = () => bookProgress(props.state);
  // Counted once the pages of the stage being made are known: just after "Make the full book" the
  // state still holds only the preview's pages, whose finished count is no news.
  const making = () => {
    const { status } = props.state;
    const { stage } = count();
    return (
      (status === "preview_generating" && stage === "preview") || (status === "full_generating" && stage === "full")
    );
  };
  // Screen readers hear the count every 5 pages (and when all are done), not every page.
  const milestone = createMemo(() => {
    const { done, total, stage } = count();
    return { done: done === total ? done : done - (done % 5), total, stage };
  });
  return (
    <section class="panel" aria-labelledby="preview-title">
      <h2 id="preview-title">{t("preview.title")}</h2>
      <Show when={making()}>
        <p class="book-progress" data-testid="book-progress">
          <label for="book-progress" class="count">
            {t(count().stage === "full" ? "progress.full" : "progress.preview", {
              done: count().done,
              total: count().total,
            })}
          </label>
          <progress id="book-progress" max={count().total} value={count().done} />
        </p>
        <p class="visually-hidden" aria-live="polite" data-testid="progress-announce">
          {milestone().done > 0
            ? t(milestone().stage === "full" ? "progress.full" : "progress.preview", {
                done: milestone().done,
                total: milestone().total,
              })
            : ""}
        </p>
      </Show>
      <Show when={making() && props.state.queue}>
        {(place) => (
          <p class="queue" data-testid="queue">
            {queueText(lang(), place())}
          </p>
        )}
      </Show>
      <ul class="pages" data-testid="preview-pages">
        <For each={preview()}>{(page) => <PageTile page={page} story={props.story} canRedraw={props.canRedraw} />}</For>
      </ul>
    </section>
  );
}

function PageTile(props: { page: LivePage; story: Story; canRedraw: boolean }): JSX.Element {
  const { t } = useApp();
  const label = () => pageLabel(t, props.page.page);
  const stateText = () => {
    const p = props.page;
    switch (p.state) {
      case "done":
        return "";
      case "failed":
        return t("preview.failed", { reason: p.failureReason ?? "" });
      case "words":
        return t("preview.finishing");
      case "drawing":
        return p.percent ? t("preview.working", { percent: p.percent }) : t("preview.started");
      default:
        return t("preview.waiting");
    }
  };
  return (
    <li class="page-tile" data-page={props.page.page} data-state={props.page.state}>
      <figure>
        <Show when={props.page.webUrl} fallback={<div class="placeholder" aria-hidden="true" />}>
          {(src) => (
            <img src={src()} alt={props.story.text(props.page.page) ?? ""} lang={props.story.lang()} loading="lazy" />
          )}
        </Show>
        <figcaption>
          <span>{label()}</span>
          <Show when={props.page.state !== "done"}>
            <Show
              when={props.page.state === "drawing"}
              fallback={<progress max="100" aria-label={`${label()}: ${stateText()}`} />}
            >
              <progress max="100" value={props.page.percent ?? 0} aria-label={`${label()}: ${stateText()}`} />
            </Show>
            <span class="page-state">{stateText()}</span>
          </Show>
          {/* In words, with a sign, never by colour alone: the likeness check's flag (docs/likeness.md). */}
          <Show when={props.page.state === "done" && props.page.flagged}>
            <span class="page-state unlike" data-testid="unlike">
              <span aria-hidden="true">⚠ </span>
              {t(props.canRedraw ? "preview.unlike" : "preview.unlikeKept")}
            </span>
          </Show>
        </figcaption>
      </figure>
    </li>
  );
}
