import { A } from "@solidjs/router";
import { createResource, createSignal, For, type JSX, Show } from "solid-js";
import type { Book } from "../api/client.ts";
import { useApp, useTitle } from "../context.tsx";
import { type CatalogFilters, catalogQuery } from "../lib/catalog.ts";

export function CatalogPage(): JSX.Element {
  const { api, t, errorText } = useApp();
  useTitle(() => t("catalog.title"));
  const [filters, setFilters] = createSignal<CatalogFilters>({ q: "", category: "", age: "" });
  const [books] = createResource(filters, (f) => api.call("GET /v1/books", { query: catalogQuery(f) }));
  // The categories to choose from: those of the whole catalog.
  const [categories] = createResource(async () => {
    const all = await api.call("GET /v1/books", { query: { limit: "100" } });
    return [...new Set(all.items.map((b) => b.category))].sort();
  });
  // Pages after the first, and the cursor after them.
  const [extra, setExtra] = createSignal<{ items: Book[]; cursor: string | null } | null>(null);
  const next = () => {
    const e = extra();
    return e ? e.cursor : (books()?.nextCursor ?? null);
  };
  const more = async () => {
    const cursor = next();
    if (!cursor) return;
    const page = await api.call("GET /v1/books", { query: { ...catalogQuery(filters()), cursor } });
    setExtra({ items: [...(extra()?.items ?? []), ...page.items], cursor: page.nextCursor });
  };
  let form!: HTMLFormElement;
  const apply = () => {
    const data = new FormData(form);
    setExtra(null);
    setFilters({
      q: String(data.get("q") ?? "").trim(),
      category: String(data.get("category") ?? ""),
      age: String(data.get("age") ?? ""),
    });
  };
  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">{t("catalog.title")}</h1>
      <form
        aria-label={t("catalog.search")}
        class="search"
        ref={form}
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <div class="field grow">
          <label for="q">{t("catalog.search")}</label>
          <input id="q" name="q" type="search" maxLength={100} />
        </div>
        <div class="field">
          <label for="category">{t("catalog.category")}</label>
          <select id="category" name="category" onChange={apply}>
            <option value="">{t("catalog.any")}</option>
            <For each={categories() ?? []}>{(c) => <option value={c}>{c}</option>}</For>
          </select>
        </div>
        <div class="field">
          <label for="age">{t("catalog.age")}</label>
          <select id="age" name="age" onChange={apply}>
            <option value="">{t("catalog.any")}</option>
            <For each={Array.from({ length: 13 }, (_, i) => String(i))}>{(a) => <option value={a}>{a}</option>}</For>
          </select>
        </div>
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
