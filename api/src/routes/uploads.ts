import { Hono } from "hono";
import type { ApiContext } from "../context.ts";
import { enforceRateLimits } from "../http/client.ts";
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
      ctx.auth,
      json(CreateUpload),
      async (c) => {
        // Each upload is completed (decoded) at most once: counting tickets bounds a user's decodes.
        const { id } = c.get("user");
        await enforceRateLimits(
          ctx.limiter,
          [{ key: `uploads:user:${id}`, limit: ctx.env.UPLOAD_RATE_LIMIT_PER_USER }],
          ctx.env.UPLOAD_RATE_LIMIT_WINDOW_SECONDS,
        );
        return c.json(await createUpload(ctx.db, ctx.bucket, id, c.req.valid("json")), 201);
      },
    )
    .post(
      "/:id/complete",
      doc({ summary: "Verify the uploaded photo", tags: ["uploads"], auth: "user", responses: { 200: Upload } }),
      ctx.auth,
      params(UploadId),
      emptyBody(),
      async (c) => c.json(await completeUpload(ctx.db, ctx.bucket, c.get("user").id, c.req.valid("param").id)),
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
