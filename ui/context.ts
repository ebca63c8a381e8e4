import { createContext } from "@lit/context";
import type { ApiClient } from "./api/client.ts";

/** The API client, provided by `<ipward-app>` to every page and component below it. */
export const apiContext = createContext<ApiClient>(Symbol("ipward-api-client"));
