// `npm run start:render-runner`: typeset pages and print files.
import { main } from "./main.ts";

await main("render");
