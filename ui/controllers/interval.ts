import type { ReactiveController, ReactiveControllerHost } from "lit";

/**
 * Calls `tick` every `ms` while the host is in the page, the tab is visible and `running` is true;
 * a tab coming back into view ticks at once, so the figures are fresh when someone looks.
 */
export class IntervalController implements ReactiveController {
  running = true;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    host: ReactiveControllerHost,
    private readonly ms: number,
    private readonly tick: () => void,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    document.addEventListener("visibilitychange", this.onVisibility);
    this.start();
  }

  hostDisconnected(): void {
    document.removeEventListener("visibilitychange", this.onVisibility);
    this.stop();
  }

  /** Pauses or resumes the ticking. */
  setRunning(running: boolean): void {
    this.running = running;
    if (running) {
      this.tick();
      this.start();
    } else {
      this.stop();
    }
  }

  private start(): void {
    this.stop();
    if (this.running && !document.hidden) this.timer = setInterval(this.tick, this.ms);
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private readonly onVisibility = (): void => {
    if (document.hidden) {
      this.stop();
    } else if (this.running) {
      this.tick();
      this.start();
    }
  };
}
