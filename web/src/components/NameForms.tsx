// The name as the book will print it, shown while the parent types: the forms its text uses (Ukrainian
// cases, the English possessive), each correctable, and any character the book cannot print.
import { createEffect, createResource, createSignal, For, type JSX, onCleanup, Show } from "solid-js";
import type { Response } from "../api/client.ts";
import { useApp } from "../context.tsx";
import { normalizeName, validName } from "../lib/child.ts";
import { isMessageKey } from "../lib/i18n.ts";

export type NamePreview = Response<"GET /v1/books/{slug}/name-forms">;
type Gender = "girl" | "boy" | "unspecified";

/** Input names of the correctable forms: `nameForm.gen` … */
export const FORM_FIELD = "nameForm.";

/** The corrections a form holds: the fields whose text differs from the preview's form. */
export function corrections(form: FormData, preview: NamePreview | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(preview?.forms ?? {})) {
    const typed = normalizeName(String(form.get(FORM_FIELD + key) ?? value));
    if (typed && typed !== value) out[key] = typed;
  }
  return out;
}

export function NameForms(props: {
  slug: string;
  name: string;
  gender: Gender | undefined;
  onPreview: (preview: NamePreview | undefined) => void;
}): JSX.Element {
  const { api, t } = useApp();
  // The name settles for a moment before it is asked about.
  const [settled, setSettled] = createSignal<{ name: string; gender: Gender | undefined } | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  createEffect(() => {
    const name = normalizeName(props.name);
    const gender = props.gender;
    clearTimeout(timer);
    timer = setTimeout(() => setSettled(validName(name) ? { name, gender } : null), 300);
  });
  onCleanup(() => clearTimeout(timer));
  const [preview] = createResource(settled, async ({ name, gender }) => {
    const query = gender ? { name, gender } : { name };
    const result = await api.call("GET /v1/books/{slug}/name-forms", { params: { slug: props.slug }, query });
    props.onPreview(result);
    return result;
  });
  const label = (form: string) => {
    const key = `child.form.${form}`;
    return isMessageKey(key) ? t(key) : form;
  };
  return (
    <Show when={preview()}>
      {(p) => (
        <>
          <Show when={p().undrawable.length > 0}>
            <p class="error" role="alert">
              {t("child.undrawable", {
                chars: p()
                  .undrawable.map((u) => u.character)
                  .join(" "),
              })}
            </p>
          </Show>
          <Show when={Object.keys(p().forms).length > 0}>
            <fieldset class="name-forms" data-testid="name-forms">
              <legend>{t("child.forms")}</legend>
              <For each={Object.entries(p().forms)}>
                {([form, value]) => (
                  <label class="inline">
                    {label(form)} <input name={FORM_FIELD + form} value={value} maxLength={60} autocomplete="off" />
                  </label>
                )}
              </For>
            </fieldset>
          </Show>
        </>
      )}
    </Show>
  );
}
