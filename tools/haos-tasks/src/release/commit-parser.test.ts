import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommitMessage } from "./commit-parser.ts";

/** The seven examples of https://www.conventionalcommits.org/en/v1.0.0/#examples, verbatim. */
export const specExamples = [
  {
    name: "description and breaking change footer",
    message:
      "feat: allow provided config object to extend other configs\n\nBREAKING CHANGE: `extends` key in config file is now used for extending other config files",
    type: "feat",
    breaking: ["`extends` key in config file is now used for extending other config files"],
  },
  {
    name: "`!` to draw attention to breaking change",
    message: "feat!: send an email to the customer when a product is shipped",
    type: "feat",
    breaking: ["send an email to the customer when a product is shipped"],
  },
  {
    name: "scope and `!`",
    message: "feat(api)!: send an email to the customer when a product is shipped",
    type: "feat",
    scope: "api",
    breaking: ["send an email to the customer when a product is shipped"],
  },
  {
    name: "both `!` and BREAKING CHANGE footer",
    message:
      "chore!: drop support for Node 6\n\nBREAKING CHANGE: use JavaScript features not available in Node 6.",
    type: "chore",
    breaking: ["use JavaScript features not available in Node 6."],
  },
  { name: "no body", message: "docs: correct spelling of CHANGELOG", type: "docs", breaking: [] },
  { name: "scope", message: "feat(lang): add Polish language", type: "feat", scope: "lang", breaking: [] },
  {
    name: "multi-paragraph body and multiple footers",
    message:
      "fix: prevent racing of requests\n\nIntroduce a request id and a reference to latest request. Dismiss\nincoming responses other than from latest request.\n\nRemove timeouts which were used to mitigate the racing issue but are\nobsolete now.\n\nReviewed-by: Z\nRefs: #123",
    type: "fix",
    breaking: [],
    body: "Introduce a request id and a reference to latest request. Dismiss\nincoming responses other than from latest request.\n\nRemove timeouts which were used to mitigate the racing issue but are\nobsolete now.",
    footers: [
      { token: "Reviewed-by", separator: ": ", value: "Z" },
      { token: "Refs", separator: ": ", value: "#123" },
    ],
  },
] as const;

describe("Conventional Commits 1.0.0 examples", () => {
  it.each(specExamples)("$name", (example) => {
    const parsed = parseCommitMessage(example.message);
    if (!parsed.conventional) throw new Error(parsed.reason);
    expect(parsed.type).toBe(example.type);
    expect(parsed.scope).toBe("scope" in example ? example.scope : undefined);
    expect(parsed.breaking).toEqual(example.breaking);
    if ("body" in example) expect(parsed.body).toBe(example.body);
    if ("footers" in example) expect(parsed.footers).toEqual(example.footers);
  });
});

describe("parseCommitMessage: the rest of the specification", () => {
  it.each([
    ["types are case-insensitive (§15)", "FEAT(Api): x", { type: "feat", scope: "Api", breaking: [] }],
    ["BREAKING-CHANGE is a synonym (§16)", "fix: x\n\nBREAKING-CHANGE: y", { breaking: ["y"] }],
    ["lower-case breaking change is body text (§15)", "fix: x\n\nbreaking change: y", { breaking: [] }],
    ["mixed-case token is an ordinary footer", "fix: x\n\nBreaking-Change: y", { breaking: [] }],
    ["`#` separator", "fix: x\n\nFixes #12", { footers: [{ token: "Fixes", separator: " #", value: "12" }] }],
    [
      "footer values span lines until the next token (§10)",
      "feat: x\n\nBREAKING CHANGE: first line\nsecond line\nRefs: #1",
      { breaking: ["first line\nsecond line"] },
    ],
    ["two breaking footers", "feat: x\n\nBREAKING CHANGE: a\nBREAKING-CHANGE: b", { breaking: ["a", "b"] }],
    ["Release-As footer, any case", "chore: release\n\nrelease-as: 2.0.0", { releaseAs: "2.0.0" }],
    [
      "revert with the reverted SHA",
      "revert: feat: x\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.",
      { type: "revert", reverts: "0123456789abcdef0123456789abcdef01234567" },
    ],
    [
      "footers may follow the header directly after one blank line",
      "fix: x\n\nRefs: #9",
      { footers: [{ token: "Refs", separator: ": ", value: "#9" }] },
    ],
    [
      "a BREAKING CHANGE line without a blank line before it still counts",
      "fix: x\n\nsome body\nBREAKING CHANGE: z",
      { breaking: ["z"], body: "some body" },
    ],
    ["CRLF line endings", "feat!: x\r\n\r\nRefs: #1\r\n", { breaking: ["x"] }],
    [
      "BREAKING CHANGE: with its text on the next line (git strips the trailing space)",
      "fix: x\n\nBREAKING CHANGE:\nThe key X was renamed.",
      { breaking: ["The key X was renamed."], warnings: [] },
    ],
    [
      "BREAKING-CHANGE: with its text on the next lines, then another footer",
      "fix: x\n\nbody\n\nBREAKING-CHANGE:\nline one\nline two\nRefs: #3",
      { breaking: ["line one\nline two"], body: "body", warnings: [] },
    ],
    [
      "BREAKING CHANGE: with a trailing space and the text on the next line",
      "fix: x\n\nBREAKING CHANGE: \nrenamed",
      { breaking: ["renamed"] },
    ],
    [
      "a bare BREAKING CHANGE: after a body line",
      "fix: x\n\nsome body\nBREAKING CHANGE:\nrenamed",
      { breaking: ["renamed"], body: "some body" },
    ],
    [
      "a BREAKING CHANGE: with no text falls back to the description",
      "fix: x\n\nBREAKING CHANGE:",
      { breaking: ["x"] },
    ],
    [
      "BREAKING CHANGE right after the header (no blank line) is still breaking",
      "feat: x\nBREAKING CHANGE: y",
      { type: "feat", breaking: ["y"], warnings: [expect.stringContaining("line 2 must be blank")] },
    ],
    [
      "a header-adjacent body with a BREAKING CHANGE footer below is still breaking",
      "feat: x\nmore words\n\nBREAKING CHANGE:\ny",
      { breaking: ["y"], body: "more words", warnings: [expect.stringContaining("line 2 must be blank")] },
    ],
  ] as const)("%s", (_name, message, expected) => {
    const parsed = parseCommitMessage(message);
    if (!parsed.conventional) throw new Error(parsed.reason);
    expect(parsed).toMatchObject(expected);
  });

  it.each([
    ["Update README", "no `type: ` prefix"],
    ["feat:no space", "no space after the colon"],
    ["feat : x", "space before the colon"],
    ["feat(): x", "empty scope"],
    ["feat:   ", "must follow the colon and a space"],
    ["feat: x\nsecond header line", "line 2 must be blank"],
    ["feat(api: x", "unclosed scope"],
    ["", "empty message"],
  ])("%j is not conventional: %s", (message, reason) => {
    const parsed = parseCommitMessage(message);
    expect(parsed.conventional).toBe(false);
    if (!parsed.conventional) expect(parsed.reason).toContain(reason);
  });

  it("keeps no body when footers follow the header", () => {
    const parsed = parseCommitMessage("fix: x\n\nRefs: #9");
    expect(parsed.conventional && parsed.body).toBeUndefined();
  });

  it("reads git's own revert form and its target", () => {
    const parsed = parseCommitMessage('Revert "feat: x"\n\nThis reverts commit abcdef1234567.');
    expect(parsed).toMatchObject({
      conventional: false,
      revertedHeader: "feat: x",
      reverts: "abcdef1234567",
    });
  });

  it("warns about lower-case `breaking change:` body text only, never about an upper-case footer", () => {
    const lower = parseCommitMessage("fix: x\n\nbreaking change: y");
    expect(lower.conventional && lower.warnings).toEqual([
      expect.stringContaining("in lower case is body text"),
    ]);
    const upper = parseCommitMessage("fix: x\n\nBREAKING CHANGE:\ny");
    expect(upper.conventional && upper.warnings).toEqual([]);
  });

  it("warns when a breaking marker is not upper-case", () => {
    const parsed = parseCommitMessage("fix: x\n\nBreaking-Change: y");
    expect(parsed.conventional && parsed.warnings.join()).toContain("not upper-case");
  });
});

describe("parseCommitMessage: what release-please and its parser read on real histories (issue 12)", () => {
  it("item 2: two spaces after the colon are accepted, as @conventional-commits/parser's `<whitespace>*`", () => {
    expect(parseCommitMessage("feat:  pass the token through")).toMatchObject({
      conventional: true,
      type: "feat",
      description: "pass the token through",
    });
    expect(parseCommitMessage("fix(api):\tx")).toMatchObject({ conventional: true, description: "x" });
  });

  it("item 6 / issue 25: the trailing footer lines and footer-only paragraphs are footers; only they reference issues", () => {
    const parsed = parseCommitMessage(
      "fix: keep the session (#1720)\n\nResolves #967\n\nThe session was dropped on reload.\nFixes #1716\n\nReviewed-by: Z\nRefs: #12",
    );
    if (!parsed.conventional) throw new Error(parsed.reason);
    expect(parsed.body).toBe("Resolves #967\n\nThe session was dropped on reload.");
    expect(parsed.footers).toEqual([
      { token: "Fixes", separator: " #", value: "1716" },
      { token: "Reviewed-by", separator: ": ", value: "Z" },
      { token: "Refs", separator: ": ", value: "#12" },
    ]);
    // As release-please reads it (checked against its library in release-differential.test.ts):
    // `Resolves #967` in the body references nothing; the footer block's `Fixes #1716` and `Refs: #12` do.
    expect(parsed.closes).toEqual([1716, 12]);
  });

  it("item 6: a footer line directly below body text, with no blank line, is a footer (as the parser reads it)", () => {
    const parsed = parseCommitMessage("fix: x\n\nsome text\nFixes #3");
    expect(parsed).toMatchObject({ body: "some text", closes: [3] });
  });

  it("item 8: footers that are commit headers become commits of their own, as release-please splits them", () => {
    const parsed = parseCommitMessage(
      "chore: sync upstream (#88)\n\nfeat(api)!: drop v1 endpoints\nfix: retry on 502\n  with backoff\nSigned-off-by: A <a@example.invalid>",
    );
    if (!parsed.conventional) throw new Error(parsed.reason);
    expect(parsed.nested.map((n) => [n.type, n.scope, n.description, n.breaking])).toEqual([
      ["feat", "api", "drop v1 endpoints", ["drop v1 endpoints"]],
      ["fix", undefined, "retry on 502", []],
      ["signed-off-by", undefined, "A <a@example.invalid>", []],
    ]);
  });

  it("item 8: BEGIN_NESTED_COMMIT … END_NESTED_COMMIT blocks are commits of their own", () => {
    const parsed = parseCommitMessage(
      "chore: update dependencies\n\nBEGIN_NESTED_COMMIT\nfeat(deps)!: move to v2\n\nBREAKING CHANGE: v1 is gone\nEND_NESTED_COMMIT\nBEGIN_NESTED_COMMIT\nfix: patch\nEND_NESTED_COMMIT",
    );
    if (!parsed.conventional) throw new Error(parsed.reason);
    expect(parsed.type).toBe("chore");
    expect(parsed.nested.map((n) => [n.type, n.breaking])).toEqual([
      ["feat", ["v1 is gone"]],
      ["fix", []],
    ]);
  });

  it("issue 25: a squash body splits at paragraphs that start with `type(scope): ` (release-please ≥ 16.14)", () => {
    const parsed = parseCommitMessage(
      "feat: add x (#5)\n\n* wip\n\nfeat(api): return listing information for y\n\n* more\n\nFixes #4",
    );
    if (!parsed.conventional) throw new Error(parsed.reason);
    expect(parsed.body).toBe("* wip");
    expect(parsed.nested.map((n) => [n.type, n.scope, n.description, n.closes, n.carried])).toEqual([
      ["feat", "api", "return listing information for y", [4], { part: 1, footer: false }],
    ]);
    // `feat!:` (with `!`) does not start a part, as release-please's pattern has no `!`.
    const bang = parseCommitMessage("fix: a\n\nfeat!: b\n\nmore");
    expect(bang.conventional && bang.nested).toEqual([]);
  });

  it("issue 25: references are footers with one issue number, whatever the token", () => {
    const refs = (m: string) => {
      const p = parseCommitMessage(m);
      return p.conventional ? p.closes : undefined;
    };
    expect(refs("fix: a\n\nRefs: #8")).toEqual([8]);
    expect(refs("fix: a\n\nFixes #7\nReviewed-by: Z")).toEqual([7]);
    expect(refs("fix: a\n\nCloses #1, #2")).toEqual([]);
    // Trailing paragraphs of footers only are one footer block (release-please v16.12.0's #2285).
    expect(refs("feat: a\n\nbody\r\n\r\nfixes #2285\r\n\r\nCo-authored-by: J <j@example.invalid>")).toEqual([
      2285,
    ]);
    expect(refs("fix: a\n\nResolves #2357\n\nmore text")).toEqual([]);
    expect(refs("fix: a\n\nFixes #956\n\nmore\n\nSigned-off-by: A <a@example.invalid>")).toEqual([]);
  });

  it("item 1: GitHub's squash-merged revert names the reverted pull request", () => {
    expect(parseCommitMessage('Revert "fix: x" (#123)\n\nReverts acme/home#122')).toMatchObject({
      conventional: false,
      revertedHeader: "fix: x",
      revertsPullRequest: 122,
      github: true,
    });
  });
});

describe("parseCommitMessage properties", () => {
  const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
  const text = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ,.]{0,30}$/).map((s) => s.trimEnd());

  it("never throws, whatever the input", () => {
    fc.assert(fc.property(fc.string(), (message) => void parseCommitMessage(message)));
  });

  it("reads back any well-formed header", () => {
    fc.assert(
      fc.property(
        word,
        fc.option(word, { nil: undefined }),
        fc.boolean(),
        text,
        (type, scope, bang, description) => {
          const header = `${type}${scope ? `(${scope})` : ""}${bang ? "!" : ""}: ${description}`;
          const parsed = parseCommitMessage(header);
          expect(parsed).toMatchObject({ conventional: true, type, description, bang });
          expect(parsed.conventional && parsed.scope).toBe(scope);
          expect(parsed.conventional && parsed.breaking.length > 0).toBe(bang);
        },
      ),
    );
  });

  it("finds a BREAKING CHANGE footer after any body", () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 4 }), text, (paragraphs, note) => {
        const body = paragraphs.filter((p) => !/^[A-Za-z0-9-]+(: | #)/.test(p)).join("\n\n");
        const message = `fix: x\n\n${body ? `${body}\n\n` : ""}BREAKING CHANGE: ${note}`;
        const parsed = parseCommitMessage(message);
        expect(parsed.conventional && parsed.breaking).toEqual([note]);
      }),
    );
  });
});
