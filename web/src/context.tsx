// What every page shares: the api client, the signed-in user, the language. Provided once by <App>.
import { createContext, createEffect, createResource, createSignal, type JSX, useContext } from "solid-js";
import { createApiClient, type User } from "./api/client.ts";
import { errorMessage } from "./lib/errors.ts";
import { detectLang, type Lang, type MessageKey, translate } from "./lib/i18n.ts";

/** "/api" behind nginx (default), "" when the api serves this app itself. */
export const API_BASE: string = import.meta.env.VITE_API_BASE_URL ?? "/api";
const LANG_KEY = "faceapp.lang";

function createAppState() {
  const api = createApiClient({ baseUrl: API_BASE });
  const [lang, setLangSignal] = createSignal<Lang>(detectLang(localStorage.getItem(LANG_KEY), navigator.languages));
  createEffect(() => {
    document.documentElement.lang = lang();
  });
  const setLang = (next: Lang) => {
    localStorage.setItem(LANG_KEY, next);
    setLangSignal(next);
  };
  const t = (key: MessageKey, vars?: Record<string, string | number>) => translate(lang(), key, vars);

  // The session is the httpOnly cookie: the app only asks who it belongs to (null when signed out,
  // an answer rather than a 401, so a signed-out visit leaves no error in the console).
  const [user, { mutate: setUser }] = createResource<User | null>(
    async () => (await api.call("GET /v1/auth/session")).user,
  );

  /** An error in words for the parent. */
  const errorText = (err: unknown): string => errorMessage(t, err);

  const signOut = async () => {
    await api.call("POST /v1/auth/logout").catch(() => {});
    setUser(null);
  };

  return { api, lang, setLang, t, user, setUser, signOut, errorText };
}

export type AppState = ReturnType<typeof createAppState>;
const AppContext = createContext<AppState>();

export function AppProvider(props: { children: JSX.Element }) {
  return <AppContext.Provider value={createAppState()}>{props.children}</AppContext.Provider>;
}

export function useApp(): AppState {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error("useApp outside <AppProvider>");
  return ctx;
}

/** The tab's title: this screen's name, then the app's, in the chosen language. */
export function useTitle(screen: () => string | null | undefined): void {
  const { t } = useApp();
  createEffect(() => {
    const name = screen();
    document.title = name ? `${name} · ${t("app.name")}` : t("app.name");
  });
}
