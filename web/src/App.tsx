import { A, Route, Router, type RouteSectionProps, useLocation, useNavigate } from "@solidjs/router";
import { createEffect, For, type JSX, on, onMount, Show } from "solid-js";
import { RequireUser } from "./components/RequireUser.tsx";
import { AppProvider, useApp } from "./context.tsx";
import { LANGS, type Lang } from "./lib/i18n.ts";
import { AuthPage } from "./pages/AuthPage.tsx";
import { BookPage } from "./pages/BookPage.tsx";
import { CatalogPage } from "./pages/CatalogPage.tsx";
import { MyBooksPage } from "./pages/MyBooksPage.tsx";
import { NewPersonalizationPage } from "./pages/NewPersonalizationPage.tsx";
import { PersonalizationPage } from "./pages/PersonalizationPage.tsx";

const LANG_NAMES: Record<Lang, string> = { en: "English", uk: "Українська" };

function Layout(props: RouteSectionProps): JSX.Element {
  const { t, user, signOut, lang, setLang } = useApp();
  const navigate = useNavigate();
  const location = useLocation();
  let main!: HTMLElement;
  let skip!: HTMLAnchorElement;
  // The router takes "#main" as a navigation that only scrolls: the skip link moves focus itself.
  onMount(() =>
    skip.addEventListener("click", (e) => {
      e.preventDefault();
      main.focus();
    }),
  );
  // After navigating, focus goes to the new page's content (screen readers hear its heading next).
  createEffect(
    on(
      () => location.pathname,
      () => main.focus({ preventScroll: true }),
      { defer: true },
    ),
  );
  return (
    <>
      <a class="skip" href="#main" ref={skip}>
        {t("app.skip")}
      </a>
      <header class="top">
        <A href="/" class="brand">
          {t("app.name")}
        </A>
        <nav aria-label={t("app.name")}>
          <A href="/" end>
            {t("nav.catalog")}
          </A>
          <Show when={user()}>
            <A href="/my-books">{t("nav.myBooks")}</A>
          </Show>
          <Show
            when={user()}
            fallback={
              <>
                <A href="/signin">{t("nav.signIn")}</A>
                <A href="/signup">{t("nav.signUp")}</A>
              </>
            }
          >
            {(u) => (
              <>
                <span class="who" title={u().email}>
                  {u().email}
                </span>
                <button
                  type="button"
                  class="link"
                  onClick={async () => {
                    await signOut();
                    navigate("/");
                  }}
                >
                  {t("nav.signOut")}
                </button>
              </>
            )}
          </Show>
          <label class="lang">
            <span class="visually-hidden">{t("nav.language")}</span>
            <select value={lang()} onChange={(e) => setLang(e.currentTarget.value as Lang)}>
              <For each={LANGS}>{(l) => <option value={l}>{LANG_NAMES[l]}</option>}</For>
            </select>
          </label>
        </nav>
      </header>
      <main id="main" tabindex="-1" ref={main}>
        {props.children}
      </main>
    </>
  );
}

/** Screens that need an account redirect to sign-in and come back. */
const signedIn = (Screen: () => JSX.Element) => () => (
  <RequireUser>
    <Screen />
  </RequireUser>
);

export function App(): JSX.Element {
  return (
    <AppProvider>
      <Router root={Layout}>
        <Route path="/" component={CatalogPage} />
        <Route path="/books/:slug" component={BookPage} />
        <Route path="/books/:slug/personalise" component={signedIn(NewPersonalizationPage)} />
        <Route path="/signin" component={() => <AuthPage mode="signin" />} />
        <Route path="/signup" component={() => <AuthPage mode="signup" />} />
        <Route path="/p/:id" component={signedIn(PersonalizationPage)} />
        <Route path="/my-books" component={signedIn(MyBooksPage)} />
        <Route path="*" component={CatalogPage} />
      </Router>
    </AppProvider>
  );
}
