/**
 * GitHub's published OpenAPI description (npm @octokit/openapi, api.github.com) as a contract:
 * every request body the double receives and every response it sends is validated with ajv against
 * the operation's schema. A violation is recorded and fails the test that caused it.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

type Json = Record<string, unknown>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
const base = "https://api.github.com.contract/description";

export interface Operation {
  operationId: string;
  method: string;
  template: string;
  params: Record<string, string>;
}

/** The file the contract is read from (so a test can name it). */
export function openApiDescriptionPath(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("@octokit/openapi/package.json");
  return path.join(path.dirname(pkg), "generated", "api.github.com.json");
}

function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase);
  if (schema && typeof schema === "object") {
    const out: Json = {};
    for (const [k, v] of Object.entries(schema)) {
      out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `${base}${v}` : rebase(v);
    }
    return out;
  }
  return schema;
}

export class OpenApiContract {
  private readonly doc: { paths: Record<string, Record<string, Json>>; components: Json };
  private readonly ajv: Ajv;
  private readonly routes: { method: string; template: string; re: RegExp; names: string[]; op: Json }[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(templates: readonly string[]) {
    this.doc = JSON.parse(readFileSync(openApiDescriptionPath(), "utf8"));
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: base, components: this.doc.components });
    for (const template of templates) {
      const entry = this.doc.paths[template];
      if (!entry) throw new Error(`${template} is not in GitHub's OpenAPI description`);
      const names: string[] = [];
      const re = new RegExp(
        `^${template.replace(/\{(\w+)\}/g, (_m, name: string) => {
          names.push(name);
          return name === "ref" || name === "tag" ? "(.+)" : "([^/]+)";
        })}$`,
      );
      for (const [method, op] of Object.entries(entry)) {
        if (method !== "parameters")
          this.routes.push({ method: method.toUpperCase(), template, re, names, op: op as Json });
      }
    }
  }

  /** The documented operation for a request, or undefined. */
  match(method: string, urlPath: string): Operation | undefined {
    for (const r of this.routes) {
      const m = r.method === method ? r.re.exec(urlPath) : null;
      if (!m) continue;
      const params: Record<string, string> = {};
      r.names.forEach((name, i) => {
        params[name] = decodeURIComponent(m[i + 1] ?? "");
      });
      return { operationId: String(r.op.operationId), method, template: r.template, params };
    }
    return undefined;
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(rebase(schema) as Json);
      this.compiled.set(key, fn);
    }
    return fn;
  }

  private errors(fn: ValidateFunction, value: unknown, what: string): string[] {
    if (fn(value)) return [];
    return (fn.errors ?? [])
      .slice(0, 5)
      .map((e) => `${what}: ${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`);
  }

  private operation(op: Operation): Json {
    return this.doc.paths[op.template]?.[op.method.toLowerCase()] as Json;
  }

  /** A named example of GitHub's description (components.examples), e.g. a full repository. */
  example(name: string): unknown {
    const examples = this.doc.components.examples as Record<string, { value: unknown }>;
    const found = examples[name];
    if (!found) throw new Error(`${name} is not an example in GitHub's OpenAPI description`);
    return structuredClone(found.value);
  }

  /** Violations of GitHub's basic-error shape (the body of any error answer). */
  validateBasicError(body: unknown, what: string): string[] {
    return this.errors(
      this.validator("basic-error", { $ref: "#/components/schemas/basic-error" }),
      body,
      what,
    );
  }

  /** Contract violations of a request body. */
  validateRequest(op: Operation, body: unknown): string[] {
    const requestBody = this.operation(op).requestBody as Json | undefined;
    const schema = (requestBody?.content as Json | undefined)?.["application/json"] as Json | undefined;
    if (!schema) return body === undefined ? [] : [`${op.operationId}: takes no request body`];
    if (body === undefined) return requestBody?.required ? [`${op.operationId}: request body required`] : [];
    return this.errors(
      this.validator(`${op.operationId} request`, schema.schema),
      body,
      `${op.operationId} request`,
    );
  }

  /** Contract violations of a response (status documented, body matching its schema). */
  validateResponse(op: Operation, status: number, body: unknown): string[] {
    const responses = this.operation(op).responses as Record<string, Json>;
    let response = responses[String(status)];
    // Any endpoint answers 401/403 when the token is bad or lacks a permission (GitHub's basic-error).
    if (!response && (status === 401 || status === 403)) {
      return this.errors(
        this.validator("basic-error", { $ref: "#/components/schemas/basic-error" }),
        body,
        `${op.operationId} ${status}`,
      );
    }
    if (!response)
      return [
        `${op.operationId}: status ${status} is not documented (documented: ${Object.keys(responses).join(", ")})`,
      ];
    if (typeof response.$ref === "string") {
      response = (this.doc.components.responses as Record<string, Json>)[
        response.$ref.split("/").pop() ?? ""
      ] as Json;
    }
    const schema = ((response.content as Json | undefined)?.["application/json"] as Json | undefined)?.schema;
    if (!schema)
      return body === undefined || body === ""
        ? []
        : [`${op.operationId} ${status}: documented without a body`];
    return this.errors(
      this.validator(`${op.operationId} ${status}`, schema),
      body,
      `${op.operationId} ${status} response`,
    );
  }
}
