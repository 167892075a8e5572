/**
 * release-please's linked-versions plugin: the components of a group release together at one
 * version, the highest any of them needs (its own next version, or a member's release since this
 * component's last one, so sequential applies converge on the group's version). Each member is
 * planned on its own first (planRelease is pure), then planned again with the group's version.
 */
import type { ReleaseConfig } from "./config.ts";
import type { PlanInput, ReleasePlan } from "./planner.ts";
import { planRelease } from "./planner.ts";
import { compareSemVer, formatSemVer, parseSemVer, type SemVer } from "./semver.ts";

/** Plans `name`, linked to its group's version when it is in a linkedVersions group. */
export async function planLinked(
  config: ReleaseConfig,
  name: string,
  read: (name: string) => Promise<PlanInput>,
): Promise<ReleasePlan> {
  const input = await read(name);
  const own = planRelease(input);
  const group = config.linkedVersions.find((g) => g.components.includes(name));
  if (!group || own.status === "blocked" || own.status === "resume") return own;
  let highest: SemVer | undefined;
  const consider = (text: string | undefined) => {
    const v = text ? parseSemVer(text) : undefined;
    if (v && (!highest || compareSemVer(v, highest) > 0)) highest = v;
  };
  if (own.status === "release") consider(own.release?.version);
  const ownPrevious = own.previous ? parseSemVer(own.previous.version) : undefined;
  for (const member of group.components) {
    if (member === name) continue;
    const p = planRelease(await read(member));
    if (p.status === "release") consider(p.release?.version);
    // A member released at a higher version since this component's last release: catch up.
    const previous = p.previous ? parseSemVer(p.previous.version) : undefined;
    if (previous && ownPrevious && compareSemVer(previous, ownPrevious) > 0) consider(p.previous?.version);
  }
  if (!highest) return own;
  const version = formatSemVer(highest);
  if (own.status === "release" && own.release?.version === version) return own;
  const linked = planRelease({ ...input, linked: { group: group.group, version } });
  const reason = `linked-versions group ${group.group} (${group.components.join(", ")}) releases ${version}; on its own: ${own.bump?.reason ?? "nothing"}`;
  linked.bump = { ...(linked.bump?.level ? { level: linked.bump.level } : {}), reason };
  if (linked.status === "release") linked.summary = `${name}: release ${version} (${reason})`;
  return linked;
}
