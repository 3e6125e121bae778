import { defineTask } from "../runtime/task.ts";
import { attemptDelivery } from "../webhooks/deliver.ts";
import type { RenderDeps } from "./deps.ts";

/** One attempt to deliver a signed webhook; the next one, if any, is scheduled with its backoff. */
export default defineTask<"deliver_webhook", RenderDeps>({
  name: "deliver_webhook",
  async run({ deliveryId }, { deps }) {
    await attemptDelivery(deps.pg, deps.webhooks, deliveryId);
  },
});
