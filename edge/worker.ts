// Entry point for Cloudflare Workers (wrangler's `main`), Deno Deploy and
// `deno serve`: the route below as a Fetch handler. Point the import at your
// route module (or import a kamailio.cfg as text and pass it as `cfg`), and put
// the parameters in `params`; the platform listens, so listen_* and the
// connection parameters are refused here. See docs/deploy.md.
import { createFetchHandler } from "../src/edge.ts";
import * as route from "../config/default.ts";

export default createFetchHandler({
  route,
  routeName: "config/default.ts",
  params: {
    // allowed_ips: "192.0.2.0/24",
  },
});
