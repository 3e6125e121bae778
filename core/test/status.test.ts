// The personalisation state machine as a graph: every status is reached from the start, every status
// that is not final can still end, the final ones are final, and the table is the one the docs show.
// (api/test/personalizations.states.test.ts checks the api's actions against it through the routes;
// runners/test/pipeline/moves.test.ts the runners' through their page and task code.)
import fs from "node:fs";
import path from "node:path";
import {
  finalStatuses,
  initialStatus,
  type PersonalizationStatus,
  personalizationMoves,
  personalizationStatuses,
} from "@faceapp/core";
import { describe, expect, it } from "vitest";

const moves = Object.entries(personalizationMoves).map(([action, m]) => ({ action, from: m.from, to: m.to }));

/** Statuses reachable from `start` by the table's moves. */
function reachable(start: PersonalizationStatus): Set<PersonalizationStatus> {
  const seen = new Set<PersonalizationStatus>([start]);
  const queue = [start];
  for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
    for (const m of moves)
      if ((m.from as readonly PersonalizationStatus[]).includes(s) && !seen.has(m.to)) {
        seen.add(m.to);
        queue.push(m.to);
      }
  }
  return seen;
}

describe("the personalisation state machine", () => {
  it("starts where `create` leads, and `create` is the only move from nothing", () => {
    expect(initialStatus).toBe("analyzing");
    expect(moves.filter((m) => m.from.length === 0).map((m) => m.action)).toEqual(["create"]);
  });

  it("reaches every status from the start", () => {
    expect([...reachable(initialStatus)].sort()).toEqual([...personalizationStatuses].sort());
  });

  it.each(personalizationStatuses.filter((s) => !finalStatuses.includes(s)))("can end from %s", (status) => {
    expect([...reachable(status)].some((s) => finalStatuses.includes(s))).toBe(true);
  });

  it("has no move out of a final status, and none that stays where it is", () => {
    for (const m of moves) {
      for (const f of m.from) expect(finalStatuses, m.action).not.toContain(f);
      expect(m.from, m.action).not.toContain(m.to);
    }
  });

  it("is the table docs/ARCHITECTURE.md shows", () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, "../../docs/ARCHITECTURE.md"), "utf8");
    const section = doc.slice(doc.indexOf("## The personalisation state machine"));
    const rows = [...section.matchAll(/^\| `(\w+)` \| ([^|]*) \| `(\w+)` \|/gm)].map((m) => ({
      action: m[1],
      from: [...(m[2] ?? "").matchAll(/`(\w+)`/g)].map((f) => f[1]).sort(),
      to: m[3],
    }));
    expect(rows).toEqual(moves.map((m) => ({ action: m.action, from: [...m.from].sort(), to: m.to })));
  });
});
