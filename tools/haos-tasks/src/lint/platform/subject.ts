import { apiGroup, type Resource } from "../../manifests/resources.ts";
import type { Position } from "../../manifests/yaml-source.ts";
import { pointerPosition } from "../../manifests/yaml-source.ts";
import type { Platform } from "../../platform/platform.ts";

/**
 * An object as the cluster would receive it (rendered by kustomize when it is part of a build),
 * tied to the source document it came from so findings point at the line to edit.
 */
export interface Subject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  /** The effective object (after kustomize). */
  object: Record<string, unknown>;
  /** The source document, when it could be traced. */
  resource: Resource | undefined;
  /** Repo-relative file for findings (the source, or the kustomization that generated it). */
  file: string;
  /** Repo-relative kustomization directory whose build produced it; undefined for standalone files. */
  build: string | undefined;
  /**
   * postBuild variables Flux substitutes that cannot be resolved offline (a Secret not in the
   * repository, an encrypted value): fields holding `${NAME}` of these stay unchecked.
   */
  unresolved?: readonly string[];
  /** The Flux Kustomization whose postBuild applies (`file:line`), for the unresolved note. */
  substitutedBy?: string;
  /** The clusters that apply it (validate/clusters.ts); unset or empty: not known, any cluster. */
  clusters?: ReadonlySet<string>;
  /**
   * For an object a chart rendered (a HelmRelease, or a CozyStack app through its chart): what
   * rendered it. Such an object has no source document of its own: findings land at the owner.
   */
  renderedBy?: RenderedBy;
}

/** The chart render an object came from. */
export interface RenderedBy {
  /** The HelmRelease or CozyStack app (VMDisk, VMInstance) whose chart rendered the object. */
  owner: Subject;
  /** `name@version` of the chart. */
  chart: string;
  /** The chart template that produced the object, e.g. `vm-instance/templates/vm.yaml`. */
  template?: string;
  /** The owner's pointer that a pointer of the rendered object is best reported at. */
  ownerPointer: (pointer: string) => string;
}

/** `Kind name`, and for a rendered object what rendered it (finding messages use this). */
export function describeSubject(subject: Subject): string {
  const what = `${subject.kind} ${subject.name}`;
  const by = subject.renderedBy;
  if (!by) return what;
  const owner = `${by.owner.kind} ${by.owner.namespace ? `${by.owner.namespace}/` : ""}${by.owner.name}`;
  return `${what} (rendered by ${owner} from ${by.chart}${by.template ? `, ${by.template}` : ""})`;
}

/** Names CozyStack ships for the declared version (from the locked kubevirt-instancetypes chart). */
export interface StockNames {
  version: string;
  instancetypes: Set<string>;
  preferences: Set<string>;
}

/** What platform rules read: every object, the platform that applies to each, the stock lists. */
export interface RuleContext {
  subjects: readonly Subject[];
  /** The platform declaration that applies to a subject's file (nearest platform.yaml above it). */
  platformOf(subject: Subject): Platform | undefined;
  /** Stock instancetype/preference names of a CozyStack version, when the lock pins them. */
  stockOf(cozystackVersion: string): StockNames | undefined;
  /** The enum of `instanceProfile` on CozyStack 0.x, from the locked values schema. */
  v0InstanceProfiles: readonly string[] | undefined;
  /** Subjects rendered from a repo-relative kustomization directory. */
  buildOf(dir: string): readonly Subject[];
}

/** Where a JSON pointer of the subject lands in its source (file line 1 when untraceable). */
export function at(subject: Subject, pointer: string): { file: string } & Position {
  if (subject.renderedBy) return at(subject.renderedBy.owner, subject.renderedBy.ownerPointer(pointer));
  if (!subject.resource) return { file: subject.file, line: 1, column: 1 };
  const { source, doc, base } = subject.resource;
  return { file: subject.file, ...pointerPosition(source, doc, `${base ?? ""}${pointer}`) };
}

/** Whether the subject is `<group>/<any version>` of one of the kinds. */
export function isKind(subject: Subject, group: string, ...kinds: string[]): boolean {
  return apiGroup(subject.apiVersion) === group && kinds.includes(subject.kind);
}

/** Subjects of a group and kinds. */
export function subjectsOf(context: RuleContext, group: string, ...kinds: string[]): Subject[] {
  return context.subjects.filter((s) => isKind(s, group, ...kinds));
}
