import type { Task } from "@lit/task";
import { html, type TemplateResult } from "lit";
import { ApiError } from "./api/client.ts";

/** A readable sentence for a failed call. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail ? sentence(error.detail) : `${error.title} (HTTP ${error.status}).`;
  if (error instanceof TypeError) return "The server could not be reached. Check the connection and try again.";
  return error instanceof Error ? error.message : String(error);
}

/** The API's details start in lower case and end without a full stop. */
function sentence(text: string): string {
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

interface TaskViewOptions<T> {
  /** What is loading, for the screen reader announcement ("the logs"). */
  what: string;
  /**
   * Keep showing the last result while a refresh runs (live views, reloads after an action) instead
   * of "Loading…"; a function decides per result (e.g. only while it is about the same thing).
   */
  keepPrevious?: boolean | ((previous: T) => boolean);
}

/** Renders a task's states the same way everywhere: loading line, result, or error with Retry. */
export function renderTask<T>(task: Task<readonly unknown[], T>, complete: (value: T) => unknown, options: TaskViewOptions<T>): unknown {
  const loading: TemplateResult = html`<p class="empty" role="status">Loading ${options.what}…</p>`;
  const keep = (previous: T) => (typeof options.keepPrevious === "function" ? options.keepPrevious(previous) : options.keepPrevious === true);
  return task.render({
    initial: () => loading,
    pending: () => (task.value !== undefined && keep(task.value) ? complete(task.value) : loading),
    complete,
    error: (error) => html`
      <div class="error" role="alert">
        <p>Could not load ${options.what}. ${errorMessage(error)}</p>
        <button type="button" @click=${() => task.run()}>Retry</button>
      </div>
    `,
  });
}

/** What an action that changes data ends with: the status line and the alert to show. */
export interface ActionOutcome {
  notice: string;
  failure: string;
}

/**
 * Runs an action that changes data, then waits for `reload` before handing back what to announce,
 * so that an announcement never describes a list the page does not show yet. The action returns its
 * notice (or a notice and a failure); what it throws becomes the failure.
 */
export async function actThenReload(action: () => Promise<string | ActionOutcome>, reload: () => Promise<unknown>): Promise<ActionOutcome> {
  let outcome: ActionOutcome;
  try {
    const result = await action();
    outcome = typeof result === "string" ? { notice: result, failure: "" } : result;
  } catch (error) {
    outcome = { notice: "", failure: errorMessage(error) };
  }
  await reload();
  return outcome;
}
