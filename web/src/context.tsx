// What every page shares: the api client, the signed-in user, the language. Provided once by <App>.
import { createContext, createEffect, createResource, createSignal, type JSX, useContext } from "solid-js";
import { ApiError, createApiClient, type User } from "./api/client.ts";
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

  // The session is the httpOnly cookie: the app only asks who it belongs to.
  const [user, { mutate: setUser }] = createResource<User | null>(async () => {
    try {
      return (await api.call("GET /v1/me")).user;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  });

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
