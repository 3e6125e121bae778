import { A } from "@solidjs/router";
import { createResource, For, type JSX, Match, Show, Switch } from "solid-js";
import type { Personalization } from "../api/client.ts";
import { useApp, useTitle } from "../context.tsx";
import { nameAfterFor } from "../lib/child.ts";
import { isMessageKey } from "../lib/i18n.ts";

export function MyBooksPage(): JSX.Element {
  const { api, t, errorText } = useApp();
  const [list] = createResource(() => api.call("GET /v1/personalizations", { query: { limit: "50" } }));
  useTitle(() => t("myBooks.title"));
  return (
    <section aria-labelledby="my-title">
      <h1 id="my-title">{t("myBooks.title")}</h1>
      <Show when={!list.error} fallback={<p role="alert">{errorText(list.error)}</p>}>
        <Show when={list()} fallback={<p aria-busy="true">{t("loading")}</p>}>
          {(page) => (
            <Show when={page().items.length > 0} fallback={<p>{t("myBooks.empty")}</p>}>
              <ul class="my-books">
                <For each={page().items}>{(item) => <BookCard item={item} />}</For>
              </ul>
            </Show>
          )}
        </Show>
      </Show>
    </section>
  );
}

/**
 * One book: its first drawn page, or the child's photo before any page is drawn. A book whose photo
 * was refused says so, with that photo, the reason and the way on (another photo).
 */
function BookCard(props: { item: Personalization }): JSX.Element {
  const { t, lang } = useApp();
  const item = () => props.item;
  const refused = () => item().status === "analysis_failed";
  const statusText = (status: string) => {
    const key = `status.${status}`;
    return isMessageKey(key) ? t(key) : status;
  };
  const reason = () => {
    const r = item().analysis?.reason;
    return typeof r === "string" ? r : item().failureReason;
  };
  return (
    <li class="card" classList={{ refused: refused() }} data-status={item().status}>
      <A href={`/p/${item().id}`}>
        <Switch fallback={<div class="placeholder" aria-hidden="true" />}>
          <Match when={item().thumbnailUrl}>{(src) => <img src={src()} alt="" loading="lazy" />}</Match>
          <Match when={item().photoUrl}>
            {(src) => <img src={src()} alt={refused() ? t("myBooks.refusedPhoto") : ""} loading="lazy" class="photo" />}
          </Match>
        </Switch>
        <h2>
          {item().book.title}
          <Show when={item().childName}>
            {(n) => <> {t("myBooks.forChild", { name: nameAfterFor(lang(), n(), item().childNameForms) })}</>}
          </Show>
        </h2>
      </A>
      <p class="meta">
        {statusText(item().status)} ·{" "}
        <time dateTime={item().createdAt}>
          {new Date(item().createdAt).toLocaleDateString(lang() === "uk" ? "uk-UA" : "en-GB")}
        </time>
      </p>
      <Show when={refused()}>
        <div data-testid="refused-card">
          <Show when={reason()}>{(r) => <p class="reason">{r()}</p>}</Show>
          <A class="button" href={`/p/${item().id}`}>
            {t("photo.replace")}
          </A>
        </div>
      </Show>
    </li>
  );
}
