import { describe, expect, it } from "vitest";
import { applyChangelogInsertion, planChangelogInsertion, topChangelogSection } from "./changelog.ts";

const section = "## 1.1.0 (2026-03-04)\n\n\n### Features\n\n* new\n";

/** Inserts `section` and checks that every existing byte is still there, around the insertion. */
function insert(existing: string): { at: number; text: string; after: string } {
  const insertion = planChangelogInsertion(existing, section);
  const after = applyChangelogInsertion(existing, insertion);
  expect(after.slice(0, insertion.at)).toBe(existing.slice(0, insertion.at));
  expect(after.slice(insertion.at + insertion.text.length)).toBe(existing.slice(insertion.at));
  return { ...insertion, after };
}

describe("planChangelogInsertion", () => {
  it("ignores a `## ` line inside a fenced code block of the intro", () => {
    const existing =
      "# Changelog\n\nEntries look like:\n\n```markdown\n## 9.9.9 (example)\n```\n\n~~~~\n## 8.8.8\n~~~\n~~~~\n\n## 1.0.0 (2025-12-01)\n\n* first\n";
    expect(insert(existing).at).toBe(existing.indexOf("## 1.0.0"));
  });

  it("goes below Keep a Changelog's Unreleased section, before the newest release", () => {
    const existing =
      "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- coming soon\n\n## [1.0.0] - 2025-12-01\n\n- first\n";
    const { at, after } = insert(existing);
    expect(at).toBe(existing.indexOf("## [1.0.0]"));
    expect(after.indexOf("## [Unreleased]")).toBeLessThan(after.indexOf("## 1.1.0"));
  });

  it("appends below an Unreleased section when no release exists yet", () => {
    const existing = "# Changelog\n\n## Unreleased\n\n- coming soon\n";
    const { at, text } = insert(existing);
    expect(at).toBe(existing.length);
    expect(text).toBe(`\n${section}`);
  });

  it("writes the file's own CRLF line endings, before a release and at the end", () => {
    const existing = "# Changelog\r\n\r\nIntro.\r\n\r\n## 1.0.0 (2025-12-01)\r\n\r\n* first\r\n";
    const before = insert(existing);
    expect(before.at).toBe(existing.indexOf("## 1.0.0"));
    expect(before.text).toBe(`${section.replaceAll("\n", "\r\n")}\r\n`);
    expect(before.after).not.toMatch(/[^\r]\n/);
    const fresh = insert("# Changelog\r\n");
    expect(fresh.text).toBe(`\r\n${section.replaceAll("\n", "\r\n")}`);
    expect(fresh.after).not.toMatch(/[^\r]\n/);
  });

  it("keeps LF files LF", () => {
    expect(insert("# Changelog\n\n## 1.0.0\n").text).toBe(`${section}\n`);
  });
});

describe("topChangelogSection", () => {
  it("takes the newest release: not Unreleased, not a heading in a code block; LF line endings", () => {
    const content =
      "# Changelog\r\n\r\n```\r\n## 0.0.0\r\n```\r\n\r\n## [Unreleased]\r\n\r\n- soon\r\n\r\n## 1.1.0 (2026-03-04)\r\n\r\n* new\r\n\r\n```\r\n## not a heading\r\n```\r\n\r\n## 1.0.0\r\n\r\n* first\r\n";
    expect(topChangelogSection(content)).toBe(
      "## 1.1.0 (2026-03-04)\n\n* new\n\n```\n## not a heading\n```\n",
    );
  });

  it("is undefined without a release section", () => {
    expect(topChangelogSection("# Changelog\n\n## Unreleased\n")).toBeUndefined();
  });
});
