import { describe, expect, test } from "bun:test";
import countries110m from "world-atlas/countries-110m.json";
import { countryName, featureCountryCode, isoCountryPairs } from "../../ui/geo/iso-countries.ts";

/** world-atlas's short names, where they differ from the CLDR English names. */
const ATLAS_NAMES: Record<string, string> = {
  "Bosnia and Herz.": "Bosnia & Herzegovina",
  "Central African Rep.": "Central African Republic",
  "Côte d'Ivoire": "Côte d’Ivoire",
  "Dem. Rep. Congo": "Congo - Kinshasa",
  Congo: "Congo - Brazzaville",
  "Dominican Rep.": "Dominican Republic",
  "Eq. Guinea": "Equatorial Guinea",
  "Falkland Is.": "Falkland Islands",
  "Fr. S. Antarctic Lands": "French Southern Territories",
  Macedonia: "North Macedonia",
  Myanmar: "Myanmar (Burma)",
  Palestine: "Palestinian Territories",
  "S. Sudan": "South Sudan",
  "Solomon Is.": "Solomon Islands",
  "Trinidad and Tobago": "Trinidad & Tobago",
  Turkey: "Türkiye",
  "United States of America": "United States",
  "W. Sahara": "Western Sahara",
  eSwatini: "Eswatini",
};

describe("ISO 3166 numeric → alpha-2", () => {
  const english = new Intl.DisplayNames("en", { type: "region" });

  test("every code pair names one country, and every alpha-2 code appears once", () => {
    const pairs = isoCountryPairs();
    expect(pairs.length).toBe(249);
    expect(new Set(pairs.map(([, alpha2]) => alpha2)).size).toBe(249);
    for (const [numeric, alpha2] of pairs) {
      expect(numeric).toMatch(/^\d{3}$/);
      expect(english.of(alpha2)).not.toBe(alpha2);
    }
  });

  test("each world-atlas country feature maps to the code of the country it names", () => {
    const geometries = (countries110m as { objects: { countries: { geometries: { id?: string; properties: { name: string } }[] } } }).objects.countries.geometries;
    const unmapped: string[] = [];
    for (const { id, properties } of geometries) {
      const code = featureCountryCode(id, properties.name);
      if (code === null) {
        unmapped.push(properties.name);
        continue;
      }
      expect(`${properties.name} → ${english.of(code)}`).toBe(`${properties.name} → ${ATLAS_NAMES[properties.name] ?? properties.name}`);
    }
    // Areas without an ISO code of their own.
    expect(unmapped.sort()).toEqual(["N. Cyprus", "Somaliland"]);
  });

  test("numeric ids are matched with or without leading zeros", () => {
    expect(featureCountryCode("004", "Afghanistan")).toBe("AF");
    expect(featureCountryCode(4, "Afghanistan")).toBe("AF");
    expect(featureCountryCode("276", "Germany")).toBe("DE");
    expect(featureCountryCode(undefined, "Kosovo")).toBe("XK");
    expect(featureCountryCode("999", "Nowhere")).toBeNull();
  });

  test("country names come from the code, whatever its case", () => {
    expect(countryName("de")).toBe(new Intl.DisplayNames(undefined, { type: "region" }).of("DE")!);
  });
});
