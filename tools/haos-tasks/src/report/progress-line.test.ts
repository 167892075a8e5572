import { describe, expect, it } from "vitest";
import { byteSize, chartProgressText, liveLine } from "./progress-line.ts";

function stream(live: boolean, width = 60) {
  const writes: string[] = [];
  const line = liveLine((t) => writes.push(t), { live, width: () => width });
  return { line, writes };
}

describe("liveLine", () => {
  it("on a terminal: each update redraws one line in place, cut to the width; clear erases it once", () => {
    const { line, writes } = stream(true, 30);
    line.update("charts 1/2: oci://r/a 1.0.0");
    line.update("charts 1/2: oci://r/a 1.0.0");
    line.update("charts 2/2: oci://registry.example.com/helm/app-template 4.1.1");
    line.clear();
    line.clear();
    expect(writes).toEqual([
      "\r\x1b[2Kcharts 1/2: oci://r/a 1.0.0",
      // 29 columns: the last one stays free, so the cursor never wraps to a new line.
      "\r\x1b[2Kcharts 2/2: oci://registry.e…",
      "\r\x1b[2K",
    ]);
    expect([...(writes[1] ?? "").slice(5)].length).toBe(29);
  });

  it("never carries control characters or newlines of the text to the terminal", () => {
    const { line, writes } = stream(true, 80);
    line.update("chart\x1b[31m red\nnext");
    expect(writes).toEqual(["\r\x1b[2Kchart\\x1b[31m red next"]);
  });

  it("not on a terminal (CI logs, pipes): writes nothing at all", () => {
    const { line, writes } = stream(false);
    line.update("charts 1/2: oci://r/a 1.0.0");
    line.clear();
    expect(writes).toEqual([]);
  });
});

describe("chartProgressText", () => {
  it("names the chart being fetched or rendered, its place and what came from where", () => {
    expect(
      chartProgressText({
        fetchedBytes: 1258291,
        done: 2,
        total: 12,
        current: "oci://ghcr.io/bjw-s-labs/helm/app-template 4.1.1",
        fetched: 1,
        cached: 1,
      }),
    ).toBe(
      "fetching and rendering charts 3/12 (1 fetched, 1.2 MiB, 1 cached): oci://ghcr.io/bjw-s-labs/helm/app-template 4.1.1",
    );
    expect(chartProgressText({ done: 0, total: 1, current: "vm-disk 0.20.0", fetched: 0, cached: 0 })).toBe(
      "fetching and rendering charts 1/1: vm-disk 0.20.0",
    );
  });

  it("is nothing once every chart is answered, or for data that is not chart progress", () => {
    expect(chartProgressText({ done: 3, total: 3, fetched: 3, cached: 0 })).toBeUndefined();
    expect(chartProgressText(undefined)).toBeUndefined();
    expect(chartProgressText({ current: "x" })).toBeUndefined();
    // Between two requests (a release still resolving its chart): the count without a chart.
    expect(chartProgressText({ done: 1, total: 3, fetched: 1, cached: 0 })).toBe(
      "fetching and rendering charts 2/3 (1 fetched)",
    );
  });
});

describe("byteSize", () => {
  it("prints binary units with one decimal below 10", () => {
    expect([0, 1023, 1024, 48213, 1258291, 52428800, 3 * 1024 ** 3].map(byteSize)).toEqual([
      "0 B",
      "1023 B",
      "1.0 KiB",
      "47 KiB",
      "1.2 MiB",
      "50 MiB",
      "3.0 GiB",
    ]);
  });
});
