// What @kubernetes/client-node's dist/config.js imports from its generated API index: exactly
// these two names. The index itself loads ~2,700 generated modules (about 48 MB of RSS) that the
// verifier never uses; src/kube/client-node-slim.ts sends config.js here instead.
// client-node-slim.test.ts fails when a client-node upgrade makes config.js import anything else.
export { createConfiguration } from "@kubernetes/client-node/dist/gen/configuration.js";
export { ServerConfiguration } from "@kubernetes/client-node/dist/gen/servers.js";
