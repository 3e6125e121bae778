// Every route that moves the state machine, from every status: its 2xx where the machine allows the
// move (and the status it moves to), 409 invalid_state with the status unchanged where it does not,
// never a 5xx. The table below is the specification, written out rather than derived from the code.
import { personalizationStatuses } from "@faceapp/core";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, body, jsonInit, signUp, useApi, book, createPersonalization, readyPhoto } from "@faceapp/testkit/api";

const api = useApi();
type Status = (typeof personalizationStatuses)[number];

const ACTIONS = {
  generate: {
    method: "POST",
    path: "generate",
    body: { childName: "Ada" },
    from: ["analyzed"],
    to: "preview_generating",
  },
  regenerate: { method: "POST", path: "regenerate", from: ["preview_ready"], to: "preview_generating" },
  confirm: { method: "POST", path: "confirm", from: ["preview_ready"], to: "full_generating" },
  "replace the photo": {
    method: "PUT",
    path: "photo",
    body: "second photo",
    from: ["analyzed", "analysis_failed", "preview_ready", "generation_failed"],
    to: "analyzing",
  },
  cancel: {
    method: "POST",
    path: "cancel",
    from: personalizationStatuses.filter((s) => s !== "completed" && s !== "canceled"),
    to: "canceled",
  },
  "download block.pdf": { method: "GET", path: "files/block.pdf", from: ["completed"], to: "completed" },
} as const satisfies Record<
  string,
  { method: string; path: string; body?: unknown; from: readonly Status[]; to: Status }
>;

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
    files = ${files}::text::jsonb, regenerate_count = ${regenerated} where id = ${id}`.execute(api.db.db);
  return id;
}

const statusOf = async (id: string) =>
  (await api.db.db.selectFrom("app.personalizations").select("status").where("id", "=", id).executeTakeFirstOrThrow())
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
      values (${id}, 'preview', 'page_1', 0, true, 1)`.execute(api.db.db);
    const res = await api.app.request(
      `/v1/personalizations/${id}/photo`,
      jsonInit("PUT", { photoUploadId: photos[1] }, bearer(token)),
    );
    expect(res.status).toBe(202);
    expect(await body(res)).toMatchObject({ status: "analyzing", photoUploadId: photos[1], analysis: null, pages: [] });
  });
});
