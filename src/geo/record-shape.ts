import type { GeoInfo } from "../core/ports.ts";

/**
 * Turns a database record into GeoInfo. Two record shapes are understood:
 * - ip-location-db (the bundled copy): `{ country_code, city, latitude, longitude, … }`, no country name;
 * - MaxMind GeoIP2/GeoLite2 City: `{ country: { iso_code, names }, city: { names }, location: { latitude, longitude } }`.
 * Returns null when the record carries no location at all.
 */
export function geoInfoFromRecord(record: unknown): GeoInfo | null {
  if (!isObject(record)) return null;
  const info = "country_code" in record ? fromIpLocationDb(record) : fromMaxMind(record);
  const known =
    info.country_code !== null || info.city !== null || info.latitude !== null || info.longitude !== null;
  return known ? info : null;
}

function fromIpLocationDb(record: Record<string, unknown>): GeoInfo {
  const code = countryCode(record.country_code);
  return {
    country_code: code,
    country: code === null ? null : countryName(code),
    city: text(record.city),
    latitude: coordinate(record.latitude),
    longitude: coordinate(record.longitude),
  };
}

function fromMaxMind(record: Record<string, unknown>): GeoInfo {
  const country = isObject(record.country) ? record.country : {};
  const city = isObject(record.city) ? record.city : {};
  const location = isObject(record.location) ? record.location : {};
  const code = countryCode(country.iso_code);
  return {
    country_code: code,
    country: englishName(country.names) ?? (code === null ? null : countryName(code)),
    city: englishName(city.names),
    latitude: coordinate(location.latitude),
    longitude: coordinate(location.longitude),
  };
}

const regionNames = new Intl.DisplayNames(["en"], { type: "region", fallback: "none" });
const countryNames = new Map<string, string | null>();

/** English name of an ISO 3166-1 alpha-2 code ("US" → "United States"); null when unknown. */
export function countryName(code: string): string | null {
  let name = countryNames.get(code);
  if (name === undefined) {
    name = regionNames.of(code) ?? null;
    countryNames.set(code, name);
  }
  return name;
}

function countryCode(value: unknown): string | null {
  const code = text(value)?.toUpperCase();
  return code !== undefined && /^[A-Z]{2}$/.test(code) ? code : null;
}

function englishName(names: unknown): string | null {
  return isObject(names) ? text(names.en) : null;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** Four decimals (about 11 m): the bundled data stores float32 noise such as 37.750999450683594. */
function coordinate(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? Math.round(value * 1e4) / 1e4 : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
