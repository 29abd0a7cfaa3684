/** Time rules shared by the parsers and the tracker. Pure code, no `Deno.*`. @module */
export { clampToNow } from "./clamp.ts";
