import { IpwardError } from "../../core/errors.ts";

/** Largest request body the admin surface reads. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The admin surface's body parser (an Elysia parse hook): refuses bodies over `maxBytes` with 413
 * before reading them whole, and reads JSON, plain text and HTML form posts. An empty body is null.
 */
export function boundedBodyParser(maxBytes = MAX_BODY_BYTES) {
  return async function parseBoundedBody({ request, contentType }: { request: Request; contentType: string }): Promise<unknown> {
    const text = await readText(request, maxBytes);
    if (text === "") return null;
    const mediaType = contentType.split(";", 1)[0].trim().toLowerCase();
    if (mediaType === "application/json" || mediaType.endsWith("+json")) {
      try {
        return JSON.parse(text);
      } catch (error) {
        throw new IpwardError("invalid_input", `the request body is not valid JSON: ${(error as Error).message}`);
      }
    }
    if (mediaType === "text/plain") return text;
    if (mediaType === "application/x-www-form-urlencoded") return Object.fromEntries(new URLSearchParams(text));
    throw new IpwardError("invalid_input", `unsupported Content-Type "${mediaType || "(none)"}": send application/json`);
  };
}

async function readText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function tooLarge(maxBytes: number): IpwardError {
  return new IpwardError("payload_too_large", `the request body is larger than ${maxBytes} bytes`, { max_bytes: maxBytes });
}
