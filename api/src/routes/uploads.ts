import { Hono } from "hono";
import type { ApiContext } from "../context.ts";
import { sessionChecked } from "../http/auth.ts";
import { doc } from "../http/openapi.ts";
import type { AppEnv } from "../http/types.ts";
import { emptyBody, json, NoQuery, params, query } from "../http/validate.ts";
import { CreateUpload, Upload, UploadId, UploadTicket, UploadWithUrl } from "../schemas.ts";
import { completeUpload, createUpload, getUpload } from "../services/uploads.ts";

/** /v1/uploads: photos go straight to S3; the api presigns and then verifies. */
export function uploadRoutes(ctx: ApiContext) {
  return new Hono<AppEnv>()
    .post(
      "/",
      doc({
        summary: "Presign a photo upload (POST form)",
        tags: ["uploads"],
        auth: "user",
        responses: { 201: UploadTicket },
      }),
      ctx.authFolded,
      json(CreateUpload),
      async (c) => {
        const ticket = await createUpload(ctx.db, ctx.bucket, c.get("user"), c.req.valid("json"));
        sessionChecked(c);
        return c.json(ticket, 201);
      },
    )
    .post(
      "/:id/complete",
      doc({ summary: "Verify the uploaded photo", tags: ["uploads"], auth: "user", responses: { 200: Upload } }),
      ctx.auth,
      params(UploadId),
      emptyBody(),
      async (c) =>
        c.json(
          await completeUpload(ctx.db, ctx.bucket, c.get("user").id, c.req.valid("param").id, {
            maxPixels: ctx.env.UPLOAD_MAX_PIXELS,
          }),
        ),
    )
    .get(
      "/:id",
      doc({
        summary: "An upload, with a preview URL once ready",
        tags: ["uploads"],
        auth: "user",
        responses: { 200: UploadWithUrl },
      }),
      ctx.auth,
      params(UploadId),
      query(NoQuery),
      async (c) => c.json(await getUpload(ctx.db, ctx.bucket, c.get("user").id, c.req.valid("param").id)),
    );
}
