// Api errors in words for the parent, never codes.
import { ApiError } from "../api/client.ts";
import type { MessageKey } from "./i18n.ts";

type T = (key: MessageKey, vars?: Record<string, string | number>) => string;

export function errorMessage(t: T, err: unknown): string {
  if (err instanceof ApiError) {
    switch (err.code) {
      case "email_taken":
      case "invalid_credentials":
      case "unauthorized":
      case "not_found":
        return t(`error.${err.code}`);
      case "rate_limited":
        return err.retryAfter ? t("error.rate_limited", { seconds: err.retryAfter }) : t("error.rate_limited_soon");
      case "invalid_input":
      case "invalid_state":
        return t(`error.${err.code}`, { message: err.message });
      default:
        return t("error.generic", { message: err.message });
    }
  }
  // fetch rejects with a TypeError when the network fails.
  if (err instanceof TypeError) return t("error.network");
  return t("error.generic", { message: err instanceof Error ? err.message : String(err) });
}
