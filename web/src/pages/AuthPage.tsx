import { A, useNavigate, useSearchParams } from "@solidjs/router";
import { createSignal, type JSX, Show } from "solid-js";
import { useApp, useTitle } from "../context.tsx";

/** Only paths inside this app are followed after signing in. */
export function safeNext(next: unknown): string {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function AuthPage(props: { mode: "signin" | "signup" }): JSX.Element {
  const { api, t, setUser, errorText } = useApp();
  const navigate = useNavigate();
  const [search] = useSearchParams();
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);
  const signup = () => props.mode === "signup";
  let errorBox!: HTMLParagraphElement;
  useTitle(() => (signup() ? t("auth.signUpTitle") : t("auth.signInTitle")));

  const submit = async (e: SubmitEvent) => {
    e.preventDefault();
    // Busy, the button says so but keeps its focus (a disabled one would drop it to the body).
    if (busy()) return;
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const body = { email: String(form.get("email") ?? ""), password: String(form.get("password") ?? "") };
    setBusy(true);
    setError(null);
    try {
      const result = signup()
        ? await api.call("POST /v1/auth/signup", { body })
        : await api.call("POST /v1/auth/login", { body });
      setUser(result.user);
      navigate(safeNext(search.next), { replace: true });
    } catch (err) {
      setError(errorText(err));
      errorBox?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="narrow" aria-labelledby="auth-title">
      <h1 id="auth-title">{signup() ? t("auth.signUpTitle") : t("auth.signInTitle")}</h1>
      <form onSubmit={submit} aria-describedby={error() ? "auth-error" : undefined}>
        <label for="email">{t("auth.email")}</label>
        <input id="email" name="email" type="email" autocomplete="email" required maxLength={254} />
        <label for="password">{t("auth.password")}</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete={signup() ? "new-password" : "current-password"}
          required
          minLength={8}
          maxLength={256}
          aria-describedby="password-hint"
        />
        <small id="password-hint">{t("auth.passwordHint")}</small>
        <p id="auth-error" class="error" role="alert" tabindex="-1" ref={errorBox}>
          {error()}
        </p>
        <button type="submit" class="primary" aria-disabled={busy()}>
          {signup() ? t("auth.submitSignUp") : t("auth.submitSignIn")}
        </button>
      </form>
      <p>
        <Show when={signup()} fallback={<A href={`/signup${next(search.next)}`}>{t("auth.toSignUp")}</A>}>
          <A href={`/signin${next(search.next)}`}>{t("auth.toSignIn")}</A>
        </Show>
      </p>
    </section>
  );
}

const next = (value: unknown) => (typeof value === "string" ? `?next=${encodeURIComponent(safeNext(value))}` : "");
