/** Paths the snapshot reads besides the configured files. */

/** The lock files a package.json version file may have entries in: beside it, and at the root. */
export function lockFilesOf(file: string): string[] {
  const dir = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) : "";
  const beside = dir === "" ? "package-lock.json" : `${dir}/package-lock.json`;
  return dir === "" ? [beside] : [beside, "package-lock.json"];
}
