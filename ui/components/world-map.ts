import { geoNaturalEarth1, geoPath } from "d3-geo";
import { html, LitElement, svg } from "lit";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import countries110m from "world-atlas/countries-110m.json" with { type: "json" };
import type { Stats } from "../api/types.ts";
import { formatCount } from "../format.ts";
import { countryName, featureCountryCode } from "../geo/iso-countries.ts";
import { logsHref } from "../router.ts";
import { sharedStyles } from "../styles/shared.styles.ts";
import { worldMapStyles } from "./world-map.styles.ts";

type CountryCount = Stats["top_countries"][number];

interface CountryShape {
  code: string | null;
  name: string;
  path: string;
}

const WIDTH = 960;
const HEIGHT = 470;
const LEVELS = 5;

let shapes: CountryShape[] | undefined;

/** Country outlines projected once per page load (Natural Earth projection, Antarctica left out). */
function countryShapes(): CountryShape[] {
  if (shapes) return shapes;
  const topology = countries110m as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
  const collection = feature(topology, topology.objects.countries);
  const inhabited = collection.features.filter((country) => country.id !== "010");
  const projection = geoNaturalEarth1().fitSize([WIDTH, HEIGHT], { type: "FeatureCollection", features: inhabited });
  const toPath = geoPath(projection);
  shapes = inhabited.map((country) => ({
    code: featureCountryCode(country.id, country.properties?.name),
    name: country.properties?.name ?? "",
    path: toPath(country) ?? "",
  }));
  return shapes;
}

/** Choropleth of requests per country; countries with traffic link to their logs. */
export class WorldMap extends LitElement {
  static override styles = [sharedStyles, worldMapStyles];
  static override properties = { countries: { attribute: false } };

  declare countries: CountryCount[];

  constructor() {
    super();
    this.countries = [];
  }

  override render() {
    const counts = new Map<string, number>();
    for (const country of this.countries) {
      if (country.country_code) counts.set(country.country_code.toUpperCase(), country.requests);
    }
    const max = Math.max(0, ...counts.values());
    return html`
      <figure>
        <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="group" aria-label="World map of requests by country">
          ${countryShapes().map((shape) => {
            const requests = shape.code ? (counts.get(shape.code) ?? 0) : 0;
            if (!shape.code || requests === 0) return svg`<path class="country" d=${shape.path} aria-hidden="true"></path>`;
            const label = `${countryName(shape.code)}: ${formatCount(requests)} requests`;
            return svg`<a href=${logsHref({ country: shape.code })} aria-label=${label}>
              <path class="country l${level(requests, max)}" d=${shape.path}><title>${label}</title></path>
            </a>`;
          })}
        </svg>
        <figcaption>
          <span>Fewer</span>
          <span class="scale" aria-hidden="true">
            ${Array.from({ length: LEVELS }, (_, i) => html`<span class="swatch l${i + 1}"></span>`)}
          </span>
          <span>More requests${max > 0 ? html` (up to ${formatCount(max)})` : null}</span>
        </figcaption>
      </figure>
    `;
  }
}

/** 1…LEVELS on a logarithmic scale, so one busy country does not wash out the rest. */
function level(requests: number, max: number): number {
  if (max <= 1) return LEVELS;
  return Math.max(1, Math.ceil((Math.log1p(requests) / Math.log1p(max)) * LEVELS));
}

customElements.define("ipward-world-map", WorldMap);

declare global {
  interface HTMLElementTagNameMap {
    "ipward-world-map": WorldMap;
  }
}
