import { it } from "vitest";
import { useTestDatabase } from "@faceapp/testkit";
import { claimSharedEmail } from "./isolation.ts";

const t = useTestDatabase();

it("sees only its own database: the same unique email can be claimed in each file", async () => {
  await claimSharedEmail(t);
});
