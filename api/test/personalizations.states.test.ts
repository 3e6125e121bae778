// Every route that moves the state machine, from every status: its 2xx where core's table of moves
// (personalizationMoves) allows the action, with the status the table says it leads to; 409
// invalid_state with the status unchanged where it does not; never a 5xx. So the table is what the
// services do, not only what they are told: a service that checked or moved otherwise fails here.
import {
  movesTo,
  movesFrom,
  type PersonalizationAction,
  personalizationMoves,
  personalizationStatuses,
} from "@faceapp/core";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, body, jsonInit, signUp, useApi, book, createPersonalization, readyPhoto } from "@faceapp/testkit/api";

const api = useApi();
type Status = (typeof personalizationStatuses)[number];

/** The api's routes of the machine's actions (the runners' moves: runners/test/pipeline/moves.test.ts). */
const ROUTES = {
  generate: { method: "POST", path: "generate", body: { childName: "Ada" } },
  regenerate: { method: "POST", path: "regenerate" },
  confirm: { method: "POST", path: "confirm" },
  replace_photo: { method: "PUT", path: "photo", body: "second photo" },
  cancel: { method: "POST", path: "cancel" },
} as const satisfies Partial<Record<PersonalizationAction, { method: string; path: string; body?: unknown }>>;

const ACTIONS = {
  ...Object.fromEntries(
    Object.entries(ROUTES).map(([action, route]) => [
      action,
      { ...route, from: movesFrom(action as keyof typeof ROUTES), to: movesTo(action as keyof typeof ROUTES) },
    ]),
  ),
  // Not a move: the files of a completed book only.
  "download block.pdf": { method: "GET", path: "files/block.pdf", from: ["completed"], to: "completed" },
} as Record<string, { method: string; path: string; body?: unknown; from: readonly Status[]; to: Status }>;

/** Statuses past analysis hold one (personalizations_analysis_present); a completed book has files. */
const HAS_ANALYSIS: Status[] = ["analyzed", "preview_generating", "preview_ready", "full_generating", "completed"];

let token = "";
let photos: string[] = [];
beforeAll(async () => {
  await book(api, { slug: "states-book" });
  const user = await signUp(api.app, "states");
  token = user.token;
  photos = [await readyPhoto(api.app, token), await readyPhoto(api.app, token)];
});

/** A personalisation of this user's put in `status` directly, as the runners would have left it. */
async function inStatus(status: Status, regenerated = 0): Promise<string> {
  const res = await createPersonalization(api.app, token, "states-book", photos[0]!);
  expect(res.status).toBe(202);
  const { id } = await body(res);
  const analysis = HAS_ANALYSIS.includes(status) ? JSON.stringify({ face: { score: 0.9 } }) : null;
  const files = status === "completed" ? JSON.stringify({ "block.pdf": `books/${id}/block.pdf` }) : "{}";
  await sql`update app.personalizations set status = ${status}, analysis = ${analysis}::text::jsonb,
    files = ${files}::text::jsonb, regenerate_count = ${regenerated} where id = ${id}`.execute(api.pg.db);
  return id;
}

const statusOf = async (id: string) =>
  (await api.pg.db.selectFrom("app.personalizations").select("status").where("id", "=", id).executeTakeFirstOrThrow())
    .status;

describe.each(Object.entries(ACTIONS))("%s", (_, action) => {
  it.each(personalizationStatuses)("from %s", async (status) => {
    const id = await inStatus(status);
    const payload =
      "body" in action ? (action.body === "second photo" ? { photoUploadId: photos[1] } : action.body) : {};
    const res = await api.app.request(
      `/v1/personalizations/${id}/${action.path}`,
      action.method === "GET"
        ? { headers: bearer(token), redirect: "manual" }
        : jsonInit(action.method, payload, bearer(token)),
    );
    const allowed = (action.from as readonly Status[]).includes(status);
    if (allowed) {
      expect(res.status, await res.clone().text()).toBe(action.method === "GET" ? 302 : 202);
      expect(await statusOf(id)).toBe(action.to);
      if (action.method !== "GET") expect((await body(res)).status).toBe(action.to);
    } else {
      expect(res.status, await res.clone().text()).toBe(409);
      const { error } = await body(res);
      expect(error).toMatchObject({ code: "invalid_state", requestId: expect.any(String), details: { status } });
      expect(await statusOf(id)).toBe(status);
    }
  });
});

describe("the api's part of the machine", () => {
  it("has a route here for every action the table gives the api (create: below)", () => {
    const apiActions = Object.entries(personalizationMoves)
      .filter(([action, m]) => m.by === "api" && action !== "create")
      .map(([action]) => action);
    expect(Object.keys(ROUTES).sort()).toEqual(apiActions.sort());
  });

  it("creates a personalisation in the status `create` leads to", async () => {
    const res = await createPersonalization(api.app, token, "states-book", photos[0]!);
    expect(res.status).toBe(202);
    const { id, status } = await body(res);
    expect(status).toBe(movesTo("create"));
    expect(await statusOf(id)).toBe(movesTo("create"));
  });
});

describe("the moves' own conditions", () => {
  it("a preview regenerated three times is 409 from preview_ready, and stays preview_ready", async () => {
    const id = await inStatus("preview_ready", 3);
    const res = await api.app.request(`/v1/personalizations/${id}/regenerate`, jsonInit("POST", {}, bearer(token)));
    expect(res.status).toBe(409);
    expect((await body(res)).error.details).toMatchObject({ status: "preview_ready", regenerationsLeft: 0 });
    expect(await statusOf(id)).toBe("preview_ready");
  });

  it("a new photo drops the old analysis and the pages made from it", async () => {
    const id = await inStatus("preview_ready");
    await sql`insert into app.personalization_pages (personalization_id, stage, page, generation, needs_face, seed)
      values (${id}, 'preview', 'page_1', 0, true, 1)`.execute(api.pg.db);
    const res = await api.app.request(
      `/v1/personalizations/${id}/photo`,
      jsonInit("PUT", { photoUploadId: photos[1] }, bearer(token)),
    );
    expect(res.status).toBe(202);
    expect(await body(res)).toMatchObject({ status: "analyzing", photoUploadId: photos[1], analysis: null, pages: [] });
  });
});
