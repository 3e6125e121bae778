// `npm run start:gpu-runner`: photo analysis and the face engine.
import { main } from "./main.ts";

await main("gpu");
