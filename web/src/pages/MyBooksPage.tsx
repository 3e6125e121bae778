import { A, Navigate } from "@solidjs/router";
import { createResource, For, type JSX, Show } from "solid-js";
import { useApp } from "../context.tsx";
import { nameAfterFor } from "../lib/child.ts";
import { isMessageKey } from "../lib/i18n.ts";

export function MyBooksPage(): JSX.Element {
  const { api, t, user, errorText, lang } = useApp();
  const [list] = createResource(
    () => user(),
    () => api.call("GET /v1/personalizations", { query: { limit: "50" } }),
  );
  const statusText = (status: string) => {
    const key = `status.${status}`;
    return isMessageKey(key) ? t(key) : status;
  };
  return (
    <Show when={user.loading || user()} fallback={<Navigate href="/signin?next=/my-books" />}>
      <section aria-labelledby="my-title">
        <h1 id="my-title">{t("myBooks.title")}</h1>
        <Show when={!list.error} fallback={<p role="alert">{errorText(list.error)}</p>}>
          <Show when={list()} fallback={<p aria-busy="true">{t("loading")}</p>}>
            {(page) => (
              <Show when={page().items.length > 0} fallback={<p>{t("myBooks.empty")}</p>}>
                <ul class="my-books">
                  <For each={page().items}>
                    {(item) => (
                      <li class="card" data-status={item.status}>
                        <A href={`/p/${item.id}`}>
                          <Show when={item.thumbnailUrl} fallback={<div class="placeholder" aria-hidden="true" />}>
                            {(src) => <img src={src()} alt="" loading="lazy" />}
                          </Show>
                          <h2>
                            {item.book.title}
                            <Show when={item.childName}>
                              {(n) => (
                                <> {t("myBooks.forChild", { name: nameAfterFor(lang(), n(), item.childNameForms) })}</>
                              )}
                            </Show>
                          </h2>
                        </A>
                        <p class="meta">
                          {statusText(item.status)} ·{" "}
                          <time dateTime={item.createdAt}>
                            {new Date(item.createdAt).toLocaleDateString(lang() === "uk" ? "uk-UA" : "en-GB")}
                          </time>
                        </p>
                      </li>
                    )}
                  </For>
                </ul>
              </Show>
            )}
          </Show>
        </Show>
      </section>
    </Show>
  );
}
