import path from "node:path";
import { at, type Subject } from "../../lint/platform/subject.ts";
import { finding } from "../../lint/rules.ts";
import { objectProblem, resourcesOf } from "../../manifests/resources.ts";
import { isIgnored, knownNonResources, kustomizationFileNames } from "../../manifests/workspace.ts";
import type { BuildStage } from "../build-stage.ts";
import type { ValidateContext } from "../context.ts";
import type { FluxKustomization } from "../flux.ts";
import { ownersOf, owningKustomization } from "../references.ts";
import { builtSubjects, SourceFiles, standaloneSubject } from "../subjects.ts";
import { listedFiles } from "./build.ts";

/**
 * The objects to check: every built object (with its clusters and the variables its
 * substitution left), and the files no build renders — loose files, and the files of a failed
 * build, checked one by one as written, so a failed build does not hide their other checks.
 */
export async function subjectsStep(ctx: ValidateContext, stage: BuildStage): Promise<Subject[]> {
  const { workspace, config } = ctx;
  const { kustomizations, byDir, units, fluxByDir, flux, clusters, built, notes } = stage;
  const unitOf = new Map(units.map((u) => [u.dir, u]));
  const subjects: Subject[] = await builtSubjects(built.resources, new SourceFiles(workspace));
  built.resources.forEach((b, i) => {
    const note = notes.get(b);
    const subject = subjects[i];
    if (subject) subject.clusters = note?.clusters ?? clusters.of(b.build);
    if (note && subject && note.unresolved.length > 0) {
      subject.unresolved = note.unresolved;
      subject.substitutedBy = note.by;
    }
  });
  const rendered = new Set(built.resources.flatMap((b) => (b.origin ? [b.origin] : [])));
  const generated = new Set(units.flatMap((u) => u.generated ?? []));
  const fallback = new Set<string>();
  // A failed build's files, and those of a kustomization whose build failed in one it includes
  // (its failure is reported there; its own files are not built either).
  for (const failure of [...built.failures, ...(built.superseded ?? [])]) {
    const unit = unitOf.get(failure.dir);
    const listed =
      unit?.generated?.flatMap((entry) => (byDir.has(entry) ? listedFiles(entry, byDir) : [entry])) ??
      listedFiles(failure.dir, byDir);
    for (const file of listed) if (!rendered.has(file) && workspace.files.has(file)) fallback.add(file);
  }
  const dirs = ownersOf(
    workspace,
    kustomizations,
    flux.map((k) => k.dir),
  );
  for (const [file, source] of workspace.files) {
    const base = path.posix.basename(file);
    if (knownNonResources.includes(base) || isIgnored(file, config.nonResources)) continue;
    if (kustomizationFileNames.includes(base)) continue;
    if (!fallback.has(file)) {
      if (owningKustomization(file, dirs) !== undefined || generated.has(file) || rendered.has(file))
        continue;
    }
    const looseClusters = clusters.of(path.posix.dirname(file));
    // A file checked on its own because its build failed: the variables its Flux Kustomization
    // would substitute are not known here (their fields stay unchecked, as for an unknown source).
    const substitutedBy = fallback.has(file) ? substitutingKustomization(file, fluxByDir) : undefined;
    const variables = substitutedBy ? [...new Set(source.text.match(/(?<=\$\{)[A-Za-z0-9_]+/g) ?? [])] : [];
    subjects.push(
      ...resourcesOf(source).map((r) => ({
        ...standaloneSubject(r),
        clusters: looseClusters,
        ...(variables.length > 0 && substitutedBy ? { unresolved: variables, substitutedBy } : {}),
      })),
    );
    // kustomize rejects such documents in a build; a file Flux applies on its own would be
    // rejected by the cluster, so it must not pass here as "0 objects".
    for (const doc of source.documents) {
      const problem = objectProblem(doc);
      if (problem)
        ctx.findings.push(
          finding(
            "manifest/not-an-object",
            { file, line: doc.start.line, column: doc.start.column },
            problem,
            "spell apiVersion, kind and metadata.name as Kubernetes does, or list the file under validate.nonResources if it is not a manifest",
          ),
        );
    }
  }
  return subjects;
}

/** The postBuild (`file:line`) of the Flux Kustomization whose path holds a file, if it substitutes. */
function substitutingKustomization(
  file: string,
  fluxByDir: ReadonlyMap<string, FluxKustomization>,
): string | undefined {
  for (let dir = path.posix.dirname(file); ; dir = path.posix.dirname(dir)) {
    const k = fluxByDir.get(dir);
    if (k?.postBuild) {
      const where = at({ resource: k.resource, file: k.resource.source.file } as Subject, "/spec/postBuild");
      return `${where.file}:${where.line}`;
    }
    if (dir === "." || dir === "/" || dir === "") return undefined;
  }
}
