import { describe, expect, it } from "vitest";
import { catalogQuery } from "./catalog.ts";

describe("the catalog filters", () => {
  it("leave empty filters out and turn the child's age into an overlapping range", () => {
    expect(catalogQuery({ q: "", category: "", age: "" })).toEqual({});
    expect(catalogQuery({ q: "moon", category: "adventure", age: "5" })).toEqual({
      q: "moon",
      category: "adventure",
      ageMin: "5",
      ageMax: "5",
    });
  });
});
