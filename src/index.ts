/**
 * The ipward package: `import { ipward } from "ipward"` puts the ipward pipeline (client IP, allow and
 * block lists, geolocation, rate limits, request log, detection) in front of an Elysia app's routes.
 */
export { type IpwardConfigInput, type IpwardPluginOptions, type IpwardRequestInfo, ipward } from "./http/plugin.ts";
export { buildCore, createApp, type IpwardApp, type IpwardCore } from "./app.ts";
export type { Config } from "./config/schema.ts";
export type { Decision, GeoInfo } from "./core/ports.ts";
