import type { ReactiveController, ReactiveControllerHost } from "lit";

/** The rows ticked in a list, by id; re-renders the host when the selection changes. */
export class SelectionController<Id> implements ReactiveController {
  private readonly selected = new Set<Id>();

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {}

  get size(): number {
    return this.selected.size;
  }

  get ids(): Id[] {
    return [...this.selected];
  }

  has(id: Id): boolean {
    return this.selected.has(id);
  }

  toggle(id: Id, on: boolean): void {
    if (on) this.selected.add(id);
    else this.selected.delete(id);
    this.host.requestUpdate();
  }

  /** Ticks or clears every one of `ids`. */
  setAll(ids: readonly Id[], on: boolean): void {
    for (const id of ids) {
      if (on) this.selected.add(id);
      else this.selected.delete(id);
    }
    this.host.requestUpdate();
  }

  /** Forgets ids that are no longer listed (removed, or filtered away). */
  retain(ids: readonly Id[]): void {
    const listed = new Set(ids);
    for (const id of this.selected) if (!listed.has(id)) this.selected.delete(id);
  }

  clear(): void {
    this.selected.clear();
    this.host.requestUpdate();
  }

  /** "all", "some" or "none" of `ids` ticked, for a select-all checkbox. */
  coverage(ids: readonly Id[]): "all" | "some" | "none" {
    const ticked = ids.filter((id) => this.selected.has(id)).length;
    return ticked === 0 ? "none" : ticked === ids.length ? "all" : "some";
  }
}
