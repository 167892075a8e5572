import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeApp } from "./app-probe.ts";

describe("probeApp", () => {
  let server: http.Server;
  let url = "";
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(
        "<html><head><title>Home Assistant</title></head><body><home-assistant></home-assistant></body></html>",
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("takes a timeout with a fraction (a deadline minus a clock reading) instead of throwing", async () => {
    // Found on real Flux: the CLI's clock started at performance.timeOrigin (a fraction), and
    // AbortSignal.timeout(2831.95) threw ERR_OUT_OF_RANGE on every probe until the deadline.
    const probe = await probeApp(url, 2831.951904296875);
    expect(probe).toMatchObject({ status: 200, looksLikeHomeAssistant: true });
  });
});
