import { A, useNavigate, useParams } from "@solidjs/router";
import { createResource, createSignal, type JSX } from "solid-js";
import { PhotoPicker } from "../components/PhotoPicker.tsx";
import { useApp, useTitle } from "../context.tsx";

/** Step one: the photo. The personalisation is created once it is verified; analysis starts then. */
export function NewPersonalizationPage(): JSX.Element {
  const { api, t, errorText } = useApp();
  const params = useParams<{ slug: string }>();
  const navigate = useNavigate();
  const [error, setError] = createSignal<string | null>(null);
  const [book] = createResource(
    () => params.slug,
    (slug) => api.call("GET /v1/books/{slug}", { params: { slug } }),
  );
  useTitle(() => `${t("photo.title")} — ${(book.error ? undefined : book.latest)?.title ?? params.slug}`);
  // One key per page visit: a retried create is answered with the same personalisation.
  const idempotencyKey = crypto.randomUUID();
  const create = async (photoUploadId: string) => {
    try {
      const created = await api.call("POST /v1/personalizations", {
        body: { bookSlug: params.slug, photoUploadId },
        headers: { "idempotency-key": idempotencyKey },
      });
      navigate(`/p/${created.id}`);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section class="narrow" aria-labelledby="new-title">
      <p>
        <A href={`/books/${params.slug}`}>← {book()?.title ?? params.slug}</A>
      </p>
      <h1 id="new-title">{t("photo.title")}</h1>
      <PhotoPicker onUploaded={create} />
      <p class="error" role="alert">
        {error()}
      </p>
    </section>
  );
}
