import { registerHooks } from "node:module";

/** The import in @kubernetes/client-node's dist/config.js that pulls in every generated API. */
export const generatedIndexSpecifier = "./gen/index.js";

/** The module that provides what config.js needs from that index (and nothing else). */
export const slimGeneratedIndex = new URL("./client-node-gen.ts", import.meta.url);

/** True for client-node's own dist/config.js, the one importer that is redirected. */
export function isClientNodeConfig(importer: string | undefined): boolean {
  return importer !== undefined && /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/.test(importer);
}

/**
 * Makes later imports of client-node's KubeConfig load without its generated API index: the CLI
 * calls this first, so `haos-tasks verify` starts in about 48 MB less memory. The Action bundle
 * gets the same redirect at build time (scripts/build-dist.ts).
 */
export function registerSlimClientNode(): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === generatedIndexSpecifier && isClientNodeConfig(context.parentURL)) {
        return { url: slimGeneratedIndex.href, shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
  });
}
