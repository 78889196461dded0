// PostGraphile 5 for bench/compare_portal.py: the amber preset over apgraph's own tables in
// the bench database (the script copies this file next to the git-ignored install in
// bench/.postgraphile and sets the variables below). Nothing here is used by apgraph.
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  // No global Node interface: the page reads rows by their own keys (amber names a column `id` `rowId`).
  disablePlugins: ["NodePlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.BENCH_PG_URL,
      schemas: [process.env.BENCH_PG_SCHEMA ?? "public"],
      poolConfig: { max: Number(process.env.BENCH_PG_POOL ?? 10) },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.BENCH_PG_PORT ?? 8121),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};

export default preset;
