import type { Finding } from "../../findings.ts";
import { toPointer } from "../../manifests/yaml-source.ts";
import { at, type RuleContext, type Subject } from "./subject.ts";

// Its catalog row is in rules.ts (ruleCatalog), as every rule's; index.ts calls `credentialRules`.
const id = "secrets/plaintext-credential";

/**
 * Keys whose value is a GitHub credential wherever they appear: the gha-runner-scale-set chart's
 * `githubConfigSecret` map, a Secret's `data`/`stringData`, a ConfigMap, any Helm values.
 * `github_app_id` and `github_app_installation_id` are identifiers, not secrets.
 */
const credentialKeys = new Set(["github_token", "github_app_private_key"]);

/** A value SOPS encrypted: `ENC[AES256_GCM,data:…,iv:…,tag:…,type:str]`. */
const sopsValue = /^ENC\[[A-Z0-9_]+,data:/;

/**
 * Credentials recognisable by their shape, under any key: a PEM private key block, and GitHub's
 * token formats (classic `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` + 36 characters, fine-grained `github_pat_`).
 */
const credentialShapes: readonly { what: string; pattern: RegExp }[] = [
  // The header alone is no key: a template around `{{ .key }}` keeps it with no body.
  {
    what: "a PEM private key",
    pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----\s*(?:[A-Za-z0-9-]+: [^\n]*\n\s*)*[A-Za-z0-9+/=]{16}/,
  },
  { what: "a GitHub token", pattern: /\bgh[pousr]_[A-Za-z0-9]{36}\b/ },
  { what: "a GitHub fine-grained token", pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}\b/ },
];

/** Base64 `data` of a Secret decodes to the plaintext: base64 is an encoding, not encryption. */
function decodedSecretData(subject: Subject, segments: readonly (string | number)[], value: string): string {
  const isSecretData =
    subject.apiVersion === "v1" &&
    subject.kind === "Secret" &&
    segments.length === 2 &&
    segments[0] === "data";
  if (!isSecretData) return value;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  return decoded;
}

/**
 * Template references name where a value comes from, they are not the value: an ExternalSecret's
 * `{{ .KEY }}` (Go templates), Flux's `${VAR}` (postBuild), Helm's `{{ .Values.x }}`.
 */
const templateReference = /\{\{[\s\S]*?\}\}|\$\{[^}]*\}/g;

function describeValue(
  subject: Subject,
  segments: readonly (string | number)[],
  value: string,
): string | undefined {
  if (sopsValue.test(value)) return undefined;
  const key = segments.at(-1);
  const plain = decodedSecretData(subject, segments, value).replace(templateReference, "");
  if (typeof key === "string" && credentialKeys.has(key) && plain.trim() !== "") return `${key} is set`;
  const shape = credentialShapes.find((s) => s.pattern.test(plain));
  return shape ? `${shape.what} is set` : undefined;
}

/** Every string value of the object; `segments` is one path, pushed and popped as it goes (no copy per node). */
function scan(
  subject: Subject,
  value: unknown,
  segments: (string | number)[],
  found: { pointer: string; what: string }[],
): void {
  if (typeof value === "string") {
    const what = describeValue(subject, segments, value);
    if (what) found.push({ pointer: toPointer(segments), what });
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      segments.push(i);
      scan(subject, value[i], segments, found);
      segments.pop();
    }
    return;
  }
  if (value && typeof value === "object") {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      // SOPS's own metadata (recipients, MAC) is no credential.
      if (segments.length === 0 && key === "sops") continue;
      segments.push(key);
      scan(subject, (value as Record<string, unknown>)[key], segments, found);
      segments.pop();
    }
  }
}

/**
 * A credential in Git must be encrypted (SOPS) or live in a Secret created outside Git and referred
 * to by name (the runner scale set's `githubConfigSecret: <name>`). Everything else is a leak the
 * moment it is pushed: report it at the line, whatever the kind.
 */
export function credentialRules(context: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const subject of context.subjects) {
    const found: { pointer: string; what: string }[] = [];
    scan(subject, subject.object, [], found);
    for (const { pointer, what } of found) {
      const where = `${subject.kind} ${subject.namespace ? `${subject.namespace}/` : ""}${subject.name}`;
      findings.push({
        severity: "error",
        rule: id,
        ...at(subject, pointer),
        message: `${where}: ${what} in plaintext at ${pointer}: anyone who can read the repository has it`,
        hint: "remove it and rotate it; create the Secret outside Git (kubectl create secret generic … --from-file=…) and refer to it by name, or encrypt the file with SOPS",
      });
    }
  }
  return findings;
}
