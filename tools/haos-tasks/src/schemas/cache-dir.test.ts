import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { toolsRepoRoot } from "../tools/paths.ts";
import { cacheDirs } from "./catalog.ts";
import { userCacheDir } from "./sources.ts";

describe("the cache directory", () => {
  it("is the user's (HAOS_TASKS_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache), never the tool's checkout", () => {
    expect(userCacheDir({ HAOS_TASKS_CACHE_DIR: "/tmp/c", XDG_CACHE_HOME: "/x" })).toBe("/tmp/c");
    expect(userCacheDir({ XDG_CACHE_HOME: "/x" })).toBe("/x/haos-tasks");
    // A relative XDG_CACHE_HOME is invalid by the spec: ignored.
    expect(userCacheDir({ XDG_CACHE_HOME: "rel" })).toBe(path.join(os.homedir(), ".cache", "haos-tasks"));
    expect(userCacheDir({})).toBe(path.join(os.homedir(), ".cache", "haos-tasks"));
    expect(cacheDirs({ XDG_CACHE_HOME: "/x" })).toEqual({
      catalogRoot: "/x/haos-tasks/schemas",
      sourceCacheDir: "/x/haos-tasks/sources",
    });
    expect(cacheDirs({}).catalogRoot.startsWith(toolsRepoRoot)).toBe(false);
  });
});
