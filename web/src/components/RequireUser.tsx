import { Navigate, useLocation } from "@solidjs/router";
import { type JSX, Show } from "solid-js";
import { useApp } from "../context.tsx";

/**
 * A screen that needs an account: shown once the session is known to be live, otherwise sign-in,
 * which comes back here (path and query) afterwards. Nothing of the screen runs before that, so a
 * signed-out deep link makes no call that could fail.
 */
export function RequireUser(props: { children: JSX.Element }): JSX.Element {
  const { user, t } = useApp();
  const location = useLocation();
  const back = () => encodeURIComponent(`${location.pathname}${location.search}`);
  return (
    <Show when={!user.loading} fallback={<p aria-busy="true">{t("loading")}</p>}>
      <Show when={user()} fallback={<Navigate href={`/signin?next=${back()}`} />}>
        {props.children}
      </Show>
    </Show>
  );
}
