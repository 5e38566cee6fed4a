/**
 * @file Node-only entry point of @rewind/rnn (`@rewind/rnn/node`): file I/O lives here so the
 * core stays browser-safe.
 */
export {};
