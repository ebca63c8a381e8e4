import type { Decision, LogRow } from "../core/ports.ts";

/**
 * The compact form in which request-log rows cross from the request thread to the log writer: the
 * numbers of each row in one Float64Array (transferred, not copied), the client IPs joined into one
 * string, and every other text replaced by a symbol — a small number standing for a string the
 * writer has already been sent. A text is sent once per writer session, however many rows use it.
 * Encoding a row is a few Map lookups; JSON-encoding it, as before, cost the request thread about
 * 1 µs per row and made the writer parse it again.
 */
export interface EncodedLogBatch {
  /** Rows in the batch. */
  count: number;
  /** ENCODED_FIELDS numbers per row, in the order of the F_ constants; -1 stands for "no value". */
  numbers: Float64Array;
  /** The rows' IPs joined by "\n" (an IP text never contains one). */
  ips: string;
  /** Texts first used by this batch; they take the next symbol numbers, in order. */
  symbols: string[];
  /** Forget every symbol sent before this batch (the encoder's table reached its bound). */
  reset: boolean;
}

export const ENCODED_FIELDS = 11;
export const F_TS = 0;
export const F_STATUS = 1;
export const F_DURATION = 2;
export const F_DECISION = 3;
export const F_METHOD = 4;
export const F_PATH = 5;
export const F_USER_AGENT = 6;
export const F_REFERER = 7;
/** Symbol of "country_code \0 country \0 city" ("" for an unknown part); -1 when all are unknown. */
export const F_PLACE = 8;
export const F_RULE = 9;
export const F_USER = 10;

/** The decisions as stored: their index (request_log_entry.decision). */
export const DECISION_CODES: readonly Decision[] = ["allow", "block", "limit"];
const DECISION_CODE = Object.fromEntries(DECISION_CODES.map((decision, code) => [decision, code])) as Record<Decision, number>;

/** Separates the parts of a place symbol (never part of a country or city name). */
export const PLACE_SEPARATOR = "\u0000";

interface PlaceSymbol {
  country_code: string | null;
  country: string | null;
  city: string | null;
  symbol: number;
}

const NO_PLACE: PlaceSymbol = { country_code: null, country: null, city: null, symbol: -1 };

/** Most symbols an encoder remembers; past it, the next batch starts a fresh table (reset). */
const MAX_SYMBOLS = 65_536;

/** Turns LogRows into EncodedLogBatches of at most `capacity` rows, remembering the symbols it has sent. */
export class LogBatchEncoder {
  private symbolIds = new Map<string, number>();
  private symbols: string[] = [];
  private reset = true;
  private numbers: Float64Array;
  private ips: string[] = [];
  private count = 0;
  /** Per field, the text of the previous row and its symbol (see symbolOf). */
  private lastText: (string | null)[] = new Array(ENCODED_FIELDS).fill(null);
  private lastSymbol: number[] = new Array(ENCODED_FIELDS).fill(-1);
  private lastPlace: PlaceSymbol = NO_PLACE;
  /** Known places by city (or country, or code when that is all there is). */
  private places = new Map<string, PlaceSymbol[]>();

  constructor(private readonly capacity: number) {
    this.numbers = new Float64Array(capacity * ENCODED_FIELDS);
  }

  /** Rows added since the last take(). */
  get size(): number {
    return this.count;
  }

  /** Adds a row; returns false (and adds nothing) when the batch already holds `capacity` rows. */
  add(row: LogRow): boolean {
    if (this.count === this.capacity) return false;
    const n = this.numbers;
    const at = this.count * ENCODED_FIELDS;
    n[at + F_TS] = row.ts;
    n[at + F_STATUS] = row.status;
    n[at + F_DURATION] = row.duration_ms;
    // An unknown decision (only a caller bypassing the types) makes the database refuse the batch.
    n[at + F_DECISION] = DECISION_CODE[row.decision] ?? -1;
    n[at + F_METHOD] = this.symbolOf(F_METHOD, row.method);
    n[at + F_PATH] = this.symbolOf(F_PATH, row.path);
    n[at + F_USER_AGENT] = this.symbolOf(F_USER_AGENT, row.user_agent);
    n[at + F_REFERER] = this.symbolOf(F_REFERER, row.referer);
    n[at + F_PLACE] = this.placeSymbol(row);
    n[at + F_RULE] = this.symbolOf(F_RULE, row.rule);
    n[at + F_USER] = this.symbolOf(F_USER, row.user);
    this.ips.push(row.ip);
    this.count++;
    return true;
  }

  /** The rows added so far as one batch (null when there are none); the encoder starts an empty one. */
  take(): EncodedLogBatch | null {
    if (this.count === 0) return null;
    const batch: EncodedLogBatch = {
      count: this.count,
      numbers: this.count === this.capacity ? this.numbers : this.numbers.slice(0, this.count * ENCODED_FIELDS),
      ips: this.ips.join("\n"),
      symbols: this.symbols,
      reset: this.reset,
    };
    if (this.count === this.capacity) this.numbers = new Float64Array(this.capacity * ENCODED_FIELDS);
    this.ips = [];
    this.count = 0;
    this.symbols = [];
    this.reset = false;
    if (this.symbolIds.size >= MAX_SYMBOLS) {
      this.symbolIds = new Map();
      this.lastText.fill(null);
      this.lastPlace = NO_PLACE;
      this.places = new Map();
      this.reset = true;
    }
    return batch;
  }

  /**
   * The symbol of a field's text (-1 for null). Consecutive rows mostly repeat a field's text, and
   * comparing with the previous one costs a fraction of hashing a fresh header string for the Map.
   */
  private symbolOf(field: number, text: string | null): number {
    if (text === null) return -1;
    if (text === this.lastText[field]) return this.lastSymbol[field];
    const id = this.symbol(text);
    this.lastText[field] = text;
    this.lastSymbol[field] = id;
    return id;
  }

  /**
   * The symbol of a row's place. Places are found by their most specific name first, without
   * building the joined key: geolocation hands out the same string instances for one location, and
   * the Map keeps each string's hash, so a known place costs one lookup and three comparisons.
   */
  private placeSymbol({ country_code, country, city }: LogRow): number {
    const last = this.lastPlace;
    if (country_code === last.country_code && country === last.country && city === last.city) return last.symbol;
    const anchor = city ?? country ?? country_code;
    if (anchor === null) return -1;
    let known = this.places.get(anchor);
    if (known === undefined) {
      known = [];
      this.places.set(anchor, known);
    }
    let place = known.find((p) => p.country_code === country_code && p.country === country && p.city === city);
    if (place === undefined) {
      const symbol = this.symbol(`${country_code ?? ""}${PLACE_SEPARATOR}${country ?? ""}${PLACE_SEPARATOR}${city ?? ""}`);
      place = { country_code, country, city, symbol };
      known.push(place);
    }
    this.lastPlace = place;
    return place.symbol;
  }

  private symbol(text: string): number {
    let id = this.symbolIds.get(text);
    if (id === undefined) {
      id = this.symbolIds.size;
      this.symbolIds.set(text, id);
      this.symbols.push(text);
    }
    return id;
  }
}

/**
 * The texts a decoder has been sent, by symbol number, and what the decoder derived from each
 * (`resolved`: the store keeps dictionary entries there, so a repeated text costs an array read).
 */
export class LogSymbolTable {
  private texts: string[] = [];
  /** Per symbol, what the decoder made of it; emptied with the texts on reset. */
  resolved: unknown[] = [];

  /** Takes in a batch's new symbols (after forgetting the old ones if it says reset). */
  receive(batch: EncodedLogBatch): void {
    if (batch.reset) {
      this.texts = [];
      this.resolved = [];
    }
    for (const text of batch.symbols) this.texts.push(text);
  }

  /** The text of a symbol, or null for -1. */
  text(symbol: number): string | null {
    if (symbol === -1) return null;
    const text = this.texts[symbol];
    if (text === undefined) throw new Error(`log batch uses symbol ${symbol}, which was never sent`);
    return text;
  }
}

/** Encodes rows in one batch with a fresh symbol table (for callers holding whole rows). */
export function encodeLogRows(rows: readonly LogRow[]): EncodedLogBatch | null {
  const encoder = new LogBatchEncoder(Math.max(rows.length, 1));
  for (const row of rows) encoder.add(row);
  return encoder.take();
}
