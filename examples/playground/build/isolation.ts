/**
 * @file The response headers that make the page cross-origin isolated (`crossOriginIsolated`
 * true, `SharedArrayBuffer` available), which the training worker needs to train on two shard
 * workers through shared memory. The dev and preview servers send them; a static host must too.
 */

/** Cross-Origin-Opener-Policy and Cross-Origin-Embedder-Policy, as the page needs them. */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};
