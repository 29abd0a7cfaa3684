/** Configuration: TOML schema, validation with positions, compiled frozen `Config`. @module */
export type * from "./types.ts";
