import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client.ts";
import { errorMessage } from "./errors.ts";
import { type Lang, type MessageKey, translate } from "./i18n.ts";

const t = (lang: Lang) => (key: MessageKey, vars?: Record<string, string | number>) => translate(lang, key, vars);

describe("errors in words", () => {
  it("says what happened for taken emails, wrong passwords and rate limits", () => {
    const en = t("en");
    expect(errorMessage(en, new ApiError(409, "email_taken", "x"))).toBe(
      "An account with this email already exists. Sign in instead?",
    );
    expect(errorMessage(en, new ApiError(401, "invalid_credentials", "x"))).toBe("The email or password is wrong.");
    expect(errorMessage(en, new ApiError(429, "rate_limited", "x", 42))).toBe(
      "Too many attempts. Please try again in 42 seconds.",
    );
    expect(errorMessage(en, new ApiError(429, "rate_limited", "x"))).toContain("in a little while");
    expect(errorMessage(t("uk"), new ApiError(401, "invalid_credentials", "x"))).toBe("Неправильна адреса або пароль.");
  });

  it("keeps the api's message where it is the useful part, and names network failures", () => {
    const en = t("en");
    expect(errorMessage(en, new ApiError(409, "invalid_state", "The preview can be regenerated at most 3 times"))).toBe(
      "That cannot be done right now: The preview can be regenerated at most 3 times",
    );
    expect(errorMessage(en, new TypeError("Failed to fetch"))).toContain("could not reach the server");
    expect(errorMessage(en, new ApiError(500, "internal", "Something went wrong on our side"))).toBe(
      "Something went wrong: Something went wrong on our side",
    );
    expect(errorMessage(en, new ApiError(500, "internal", "x"))).not.toContain("internal");
  });
});
