import type { Verdict } from "../core/pipeline.ts";

const verdicts = new WeakMap<Request, Verdict>();

/** Remembers the pipeline's verdict for a request so the application behind it can read it. */
export function attachVerdict(request: Request, verdict: Verdict): void {
  verdicts.set(request, verdict);
}

/** The verdict the pipeline reached for this request, if it went through the pipeline. */
export function verdictOf(request: Request): Verdict | undefined {
  return verdicts.get(request);
}
