import { A, useParams } from "@solidjs/router";
import { createEffect, createMemo, createResource, createSignal, For, type JSX, on, onCleanup, Show } from "solid-js";
import type { Operations } from "../api/client.ts";
import { pageLabel } from "../components/labels.ts";
import { PhotoPicker } from "../components/PhotoPicker.tsx";
import { Viewer } from "../components/Viewer.tsx";
import { useApp } from "../context.tsx";
import { corrections, type NamePreview, NameForms } from "../components/NameForms.tsx";
import { nameAfterFor, needsGender, normalizeName, parseAge, validName } from "../lib/child.ts";
import { createEventStream } from "../lib/event-stream.ts";
import { isMessageKey } from "../lib/i18n.ts";
import { actions, applyEvent, fromView, type LivePage, type LiveState, sortedPages, withView } from "../lib/live.ts";

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
  createEffect(
    on(view, (v) => {
      if (v) setLive((prev) => (prev && prev.id === v.id ? withView(prev, v) : fromView(v)));
    }),
  );
  // Status changes: fetch the view once a burst of events (a replay) has passed.
  let pending: ReturnType<typeof setTimeout> | undefined;
  const refetchSoon = () => {
    clearTimeout(pending);
    pending = setTimeout(() => void refetch(), 100);
  };
  onCleanup(() => clearTimeout(pending));
  // The live view: replayed from the start, then live; the browser resumes after drops by itself.
  const streamUrl = createMemo(() =>
    live() ? api.url("GET /v1/personalizations/{id}/events", { id: params.id }) : null,
  );
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
  const act = async (run: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await run();
      await refetch();
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

  return (
    <Show when={!view.error} fallback={<p role="alert">{errorText(view.error)}</p>}>
      <Show when={live()} fallback={<p aria-busy="true">{t("loading")}</p>}>
        {(s) => {
          const can = () => actions(s());
          const title = () => view()?.book.title ?? "";
          // The tab says whose book it is, in the same words as the heading ("… — для Соломії").
          createEffect(() => {
            const name = s().childName;
            document.title = name
              ? `${title()} — ${t("myBooks.forChild", { name: nameAfterFor(lang(), name, s().childNameForms) })}`
              : title();
          });
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
              <p class="status" role="status" aria-live="polite" data-testid="status">
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
                <PagesPanel state={s()} onOpen={(i) => setViewerAt(i)} />
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
                    disabled={busy() || !can().regenerate}
                    onClick={() =>
                      act(() => api.call("POST /v1/personalizations/{id}/regenerate", { params: { id: id() } }))
                    }
                  >
                    {s().regenerationsLeft > 0
                      ? t("preview.regenerate", { n: s().regenerationsLeft })
                      : t("preview.regenerateNone")}
                  </button>
                </Show>
                <Show when={can().replacePhoto && s().status !== "analysis_failed" && !replacing()}>
                  <button type="button" disabled={busy()} onClick={() => setReplacing(true)}>
                    {t("photo.replace")}
                  </button>
                </Show>
                <Show when={can().confirm}>
                  <button
                    type="button"
                    class="primary"
                    disabled={busy()}
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
                    disabled={busy()}
                    onClick={() => {
                      if (window.confirm(t("preview.cancelConfirm")))
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
                            <a
                              href={api.url("GET /v1/personalizations/{id}/files/{name}", { id: id(), name })}
                              download={name}
                              data-file={name}
                            >
                              {t(label)} — {name}
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
        <button type="submit" class="primary" disabled={props.busy}>
          {t("child.submit")}
        </button>
      </form>
    </section>
  );
}

function PagesPanel(props: { state: LiveState; onOpen: (spread: number) => void }): JSX.Element {
  const { t } = useApp();
  const preview = () => sortedPages(props.state, "preview");
  const full = () => sortedPages(props.state, "full");
  const fullDone = () => full().filter((p) => p.state === "done").length;
  return (
    <section class="panel" aria-labelledby="preview-title">
      <h2 id="preview-title">{t("preview.title")}</h2>
      <ul class="pages" data-testid="preview-pages">
        <For each={preview()}>{(page) => <PageTile page={page} />}</For>
      </ul>
      <Show when={full().length > 0 && props.state.status === "full_generating"}>
        <p>
          <label for="full-progress">{t("status.full_generating")}</label>{" "}
          <progress id="full-progress" max={full().length} value={fullDone()} /> {fullDone()}/{full().length}
        </p>
      </Show>
    </section>
  );
}

function PageTile(props: { page: LivePage }): JSX.Element {
  const { t } = useApp();
  const label = () => pageLabel(t, props.page.page);
  const stateText = () => {
    const p = props.page;
    if (p.state === "done") return "";
    if (p.state === "failed") return t("preview.failed", { reason: p.failureReason ?? "" });
    if (p.state === "progress" && p.percent !== null && p.percent >= 100) return t("preview.finishing");
    if (p.state === "progress" && p.percent !== null) return t("preview.working", { percent: p.percent });
    if (p.state === "started" || p.state === "progress") return t("preview.started");
    return t("preview.waiting");
  };
  return (
    <li class="page-tile" data-page={props.page.page} data-state={props.page.state}>
      <figure>
        <Show when={props.page.webUrl} fallback={<div class="placeholder" aria-hidden="true" />}>
          {(src) => <img src={src()} alt={label()} loading="lazy" />}
        </Show>
        <figcaption>
          <span>{label()}</span>
          <Show when={props.page.state !== "done"}>
            <Show
              when={props.page.percent !== null}
              fallback={<progress max="100" aria-label={`${label()}: ${stateText()}`} />}
            >
              <progress max="100" value={props.page.percent ?? 0} aria-label={`${label()}: ${stateText()}`} />
            </Show>
            <span class="page-state">{stateText()}</span>
          </Show>
        </figcaption>
      </figure>
    </li>
  );
}
