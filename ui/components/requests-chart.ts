import { html, LitElement, type PropertyValues, unsafeCSS } from "lit";
import uPlot from "uplot";
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import type { Stats } from "../api/types.ts";
import { formatCount } from "../format.ts";
import { requestsChartStyles } from "./requests-chart.styles.ts";

type Series = Stats["series"];

const SERIES = [
  { label: "Requests", color: "--accent", fill: true },
  { label: "Blocked", color: "--block", fill: false },
  { label: "Limited", color: "--limit", fill: false },
] as const;

/** Requests, blocked and limited over time, drawn by uPlot; follows the container's width and the colour scheme. */
export class RequestsChart extends LitElement {
  static override styles = [unsafeCSS(uplotCss), requestsChartStyles];
  static override properties = { series: { attribute: false }, pointed: { state: true } };

  declare series: Series;
  /** Index of the interval under the pointer, or null. */
  declare pointed: number | null;

  private plot: uPlot | null = null;
  private resizeObserver: ResizeObserver | null = null;
  private readonly darkScheme = matchMedia("(prefers-color-scheme: dark)");

  constructor() {
    super();
    this.series = [];
    this.pointed = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.darkScheme.addEventListener("change", this.rebuild);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.darkScheme.removeEventListener("change", this.rebuild);
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
    this.plot?.destroy();
    this.plot = null;
  }

  override render() {
    return html`
      <p class="visually-hidden">${this.summary()}</p>
      <p class="readout" aria-hidden="true">${this.readout()}</p>
      <div class="plot" aria-hidden="true"></div>
    `;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (!changed.has("series")) return;
    if (this.plot) this.plot.setData(this.data());
    else this.create();
  }

  private create(): void {
    const target = this.renderRoot.querySelector<HTMLElement>(".plot");
    if (!target) return;
    const style = getComputedStyle(this);
    const color = (name: string) => style.getPropertyValue(name).trim();
    const axis: uPlot.Axis = {
      stroke: color("--muted"),
      grid: { stroke: color("--border"), width: 1 },
      ticks: { stroke: color("--border"), width: 1 },
      font: `12px ${style.fontFamily}`,
    };
    const few = () => this.series.length <= 30;
    this.plot = new uPlot(
      {
        width: Math.max(target.clientWidth, 200),
        height: this.chartHeight(),
        cursor: { drag: { x: false, y: false } },
        legend: { live: false },
        hooks: {
          setCursor: [
            (plot) => {
              this.pointed = plot.cursor.idx ?? null;
            },
          ],
        },
        scales: { y: { range: (_plot, _min, max) => [0, Math.max(4, Math.ceil(max * 1.1))] } },
        axes: [axis, { ...axis, size: 56, values: (_plot, ticks) => ticks.map((tick) => formatCount(tick)) }],
        series: [
          { label: "Time" },
          ...SERIES.map((line) => ({
            label: line.label,
            stroke: color(line.color),
            width: 2,
            fill: line.fill ? translucent(color(line.color), 0.14) : undefined,
            points: { show: few, size: 6 },
          })),
        ],
      },
      this.data(),
      target,
    );
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(target);
  }

  private data(): uPlot.AlignedData {
    return [
      this.series.map((point) => Date.parse(point.ts) / 1000),
      this.series.map((point) => point.requests),
      this.series.map((point) => point.blocked),
      this.series.map((point) => point.limited),
    ];
  }

  private chartHeight(): number {
    return matchMedia("(max-width: 640px)").matches ? 200 : 260;
  }

  private resize(): void {
    const target = this.renderRoot.querySelector<HTMLElement>(".plot");
    if (!this.plot || !target) return;
    const width = Math.max(target.clientWidth, 200);
    const height = this.chartHeight();
    if (width !== this.plot.width || height !== this.plot.height) this.plot.setSize({ width, height });
  }

  /** Colours are read from the custom properties when the chart is made, so a scheme change remakes it. */
  private readonly rebuild = (): void => {
    this.resizeObserver?.disconnect();
    this.plot?.destroy();
    this.plot = null;
    this.create();
  };

  /** The figures of the interval under the pointer, or how to get them. */
  private readout(): string {
    const point = this.pointed === null ? undefined : this.series[this.pointed];
    if (!point) return "Point at the chart to read an interval's figures.";
    const blocked = point.blocked ? ` · ${formatCount(point.blocked)} blocked` : "";
    const limited = point.limited ? ` · ${formatCount(point.limited)} rate-limited` : "";
    return `${new Date(point.ts).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}: ${formatCount(point.requests)} requests${blocked}${limited}`;
  }

  private summary(): string {
    if (this.series.length === 0) return "No requests in this period.";
    const peak = this.series.reduce((best, point) => (point.requests > best.requests ? point : best));
    const total = this.series.reduce((sum, point) => sum + point.requests, 0);
    return `Requests over time: ${formatCount(total)} in ${this.series.length} intervals, at most ${formatCount(peak.requests)} at ${new Date(peak.ts).toLocaleString()}.`;
  }
}

/** `#rrggbb` at the given opacity, for the canvas (which takes no custom properties). */
function translucent(hex: string, alpha: number): string {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!match) return hex;
  const [red, green, blue] = match.slice(1).map((part) => Number.parseInt(part, 16));
  return `rgba(${red}, ${green}, ${blue}, ${alpha})`;
}

customElements.define("ipward-requests-chart", RequestsChart);

declare global {
  interface HTMLElementTagNameMap {
    "ipward-requests-chart": RequestsChart;
  }
}
