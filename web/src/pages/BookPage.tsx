import { A, useParams } from "@solidjs/router";
import { createResource, type JSX, Show } from "solid-js";
import { useApp, useTitle } from "../context.tsx";
import { pageLabel } from "../components/labels.ts";

export function BookPage(): JSX.Element {
  const { api, t, user, errorText } = useApp();
  const params = useParams<{ slug: string }>();
  const [book] = createResource(
    () => params.slug,
    (slug) => api.call("GET /v1/books/{slug}", { params: { slug } }),
  );
  useTitle(() => (book.error ? null : book.latest?.title));
  return (
    <Show when={!book.error} fallback={<p role="alert">{errorText(book.error)}</p>}>
      <Show when={book()} fallback={<p aria-busy="true">{t("loading")}</p>}>
        {(b) => (
          <article class="book">
            <img class="cover" src={b().coverUrl} alt={t("book.cover", { title: b().title })} />
            <div>
              <h1>{b().title}</h1>
              <p class="meta">
                {t("catalog.ages", { min: b().ageMin, max: b().ageMax })} · {b().category} ·{" "}
                {t("catalog.pages", { n: b().pageCount })}
              </p>
              <p>{b().description}</p>
              <p>
                {t("book.preview", {
                  pages: b()
                    .previewPages.map((p) => pageLabel(t, p))
                    .join(", "),
                })}
              </p>
              <Show
                when={user()}
                fallback={
                  <A class="button" href={`/signin?next=${encodeURIComponent(`/books/${b().slug}/personalise`)}`}>
                    {t("book.signInFirst")}
                  </A>
                }
              >
                <A class="button primary" href={`/books/${b().slug}/personalise`}>
                  {t("book.personalise")}
                </A>
              </Show>
            </div>
          </article>
        )}
      </Show>
    </Show>
  );
}
