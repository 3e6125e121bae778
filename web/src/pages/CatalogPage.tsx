import { A } from "@solidjs/router";
import { createResource, createSignal, For, type JSX, Show } from "solid-js";
import type { Book } from "../api/client.ts";
import { useApp } from "../context.tsx";

export function CatalogPage(): JSX.Element {
  const { api, t, errorText } = useApp();
  const [query, setQuery] = createSignal("");
  const [books] = createResource(query, (q) => api.call("GET /v1/books", { query: q ? { q } : {} }));
  // Pages after the first, and the cursor after them.
  const [extra, setExtra] = createSignal<{ items: Book[]; cursor: string | null } | null>(null);
  const next = () => {
    const e = extra();
    return e ? e.cursor : (books()?.nextCursor ?? null);
  };
  const more = async () => {
    const cursor = next();
    if (!cursor) return;
    const page = await api.call("GET /v1/books", { query: { cursor, ...(query() ? { q: query() } : {}) } });
    setExtra({ items: [...(extra()?.items ?? []), ...page.items], cursor: page.nextCursor });
  };
  let input!: HTMLInputElement;
  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">{t("catalog.title")}</h1>
      <form
        aria-label={t("catalog.search")}
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          setExtra(null);
          setQuery(input.value.trim());
        }}
      >
        <label for="q">{t("catalog.search")}</label>
        <input id="q" name="q" type="search" ref={input} maxLength={100} />
        <button type="submit">{t("catalog.searchButton")}</button>
      </form>
      <Show when={!books.error} fallback={<p role="alert">{errorText(books.error)}</p>}>
        <Show when={books()} fallback={<p aria-busy="true">{t("loading")}</p>}>
          {(page) => (
            <>
              <Show when={page().items.length > 0} fallback={<p>{t("catalog.empty")}</p>}>
                <ul class="books">
                  <For each={[...page().items, ...(extra()?.items ?? [])]}>
                    {(book) => (
                      <li class="card">
                        <A href={`/books/${book.slug}`}>
                          <img src={book.coverUrl} alt={t("book.cover", { title: book.title })} loading="lazy" />
                          <h2>{book.title}</h2>
                        </A>
                        <p class="meta">
                          {t("catalog.ages", { min: book.ageMin, max: book.ageMax })} · {book.category}
                        </p>
                      </li>
                    )}
                  </For>
                </ul>
              </Show>
              <Show when={next()}>
                <button type="button" onClick={more}>
                  {t("catalog.more")}
                </button>
              </Show>
            </>
          )}
        </Show>
      </Show>
    </section>
  );
}
