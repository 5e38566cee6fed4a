/**
 * @file The training worker: holds the session and trains it in slices of about 100 ms, posting
 * each slice's losses and the measured steps per second, and a fresh preview every 1.5 s.
 * Between slices it yields to its event loop, so "pause", a new configuration or "save" is
 * handled within one slice; the page never waits on training.
 *
 * On a cross-origin isolated page with two cores it trains on two shard workers of its own
 * (nested Web Workers, started once): each step then awaits them, and messages are handled
 * while it does. Otherwise it trains on its own thread as before, and so it does from the moment
 * the shard workers fail before any step of theirs succeeded (their script did not load, say).
 *
 * When it starts it asks for a WebGPU device and tells the page; when that device is lost it asks
 * again, tells the page, and starts a WebGPU session again from its seed on the new device. A
 * session on "webgpu" trains on the device from this thread (never on the shard workers); its
 * steps, previews and saves are promises, handled like the shard workers' steps.
 */
import * as E from "fp-ts/lib/Either.js";
import { mobyDick, names } from "virtual:rewind-datasets";
import { keepWebGpu, type DeviceReport } from "./device/keeper.js";
import { createDeviceSession } from "./device/session.js";
import type { DeviceName, FromWorker, RunConfig, RunState, ToWorker } from "./protocol.js";
import { createParallelSession, shardable, shardPmap, type ShardPmap } from "./parallel/session.js";
import { trainingWorkers } from "./parallel/workers.js";
import { createSession, type Session } from "./session.js";
import { taskFor } from "./tasks/index.js";
import { readWeights } from "./weights.js";

/** The slice of a dedicated worker's global scope used here (the project compiles against the DOM library). */
interface WorkerScope {
  postMessage(message: FromWorker, transfer: Transferable[]): void;
  addEventListener(type: "message", listener: (e: MessageEvent<ToWorker>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

const SLICE_MS = 100;
const PREVIEW_MS = 1500;
/** Steps per second are measured over about this much recent time. */
const RATE_WINDOW_MS = 2000;

const data = { names, mobyDick };
const workers = trainingWorkers(globalThis);
// The bundler sees the shard workers' module through this `new Worker(new URL(…))`.
let shards: ShardPmap | undefined =
  workers > 1
    ? shardPmap(() => new Worker(new URL("./shard.worker.ts", import.meta.url), { type: "module" }), workers)
    : undefined;

/**
 * A session for `config` on `device`: on WebGPU, on the current device (an error when there is
 * none); on the CPU, on the shard workers when there are some and the task's batches
 * split evenly, else on this thread.
 */
const sessionFor = (config: RunConfig, device: DeviceName): Session<number | Promise<number>> => {
  const task = taskFor(config, data);
  if (device === "webgpu") {
    return createDeviceSession(config, task, gpus.device());
  }
  return shards !== undefined && shardable(task, shards.workers)
    ? createParallelSession(config, task, shards)
    : createSession(config, task);
};

let session: Session<number | Promise<number>> | undefined;
let state: RunState = "building";
/** Bumped for every new session, so the loop of a replaced session stops. */
let generation = 0;
/** Whether a step on the shard workers ever succeeded (after that, their failures are errors to show). */
let shardsWorked = false;
/** Bumped by every start, so a loop still awaiting a step when training resumes stops after it. */
let run = 0;
let lastPreview = 0;
let marks: Array<{ readonly t: number; readonly steps: number }> = [];

const post = (m: FromWorker, transfer: Transferable[] = []): void => scope.postMessage(m, transfer);
const setState = (s: RunState): void => {
  state = s;
  post({ type: "state", state: s });
};
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Posts a preview of `s`, at once when it is synchronous; one that arrives after `s` was replaced is dropped. */
const postPreview = (s: Session<number | Promise<number>>): void => {
  lastPreview = performance.now();
  const gen = generation;
  const preview = s.preview();
  if (!(preview instanceof Promise)) return post({ type: "preview", step: s.steps(), preview });
  preview.then(
    (p) => gen === generation && post({ type: "preview", step: s.steps(), preview: p }),
    (e: unknown) => gen === generation && post({ type: "error", message: `preview failed: ${messageOf(e)}` }),
  );
};

const install = (s: Session<number | Promise<number>>): void => {
  session?.close?.();
  session = s;
  generation += 1;
  post({
    type: "ready",
    config: s.config,
    summary: s.summary,
    graphs: s.graphs(),
    lossLabel: s.lossLabel,
    workers: s.workers,
    device: s.device,
    ...(s.device === "webgpu" ? { adapter: gpus.adapter() } : {}),
    step: s.steps(),
  });
  postPreview(s);
  setState("idle");
};

const build = (config: RunConfig, device: DeviceName): void => {
  generation += 1; // stops a running loop before the (slow) build
  setState("building");
  install(sessionFor(config, device));
};

const loop = async (gen: number, token: number): Promise<void> => {
  const live = (): boolean => gen === generation && token === run && state === "running";
  if (!live() || session === undefined) return;
  const s = session;
  try {
    const started = performance.now();
    const losses: number[] = [];
    // A step on the shard workers awaits them: a pause or a new session may arrive meanwhile.
    do {
      losses.push(await s.step());
      if (s.workers > 1) shardsWorked = true;
    } while (performance.now() - started < SLICE_MS && live());
    if (gen !== generation) return; // replaced: its losses belong to no chart
    const now = performance.now();
    marks = [...marks.filter((m) => now - m.t <= RATE_WINDOW_MS), { t: now, steps: s.steps() }];
    const first = marks[0]!;
    const stepsPerSecond =
      now > first.t ? ((s.steps() - first.steps) * 1000) / (now - first.t) : (losses.length * 1000) / (now - started);
    post({ type: "progress", step: s.steps(), losses, stepsPerSecond });
    if (now - lastPreview >= PREVIEW_MS) postPreview(s);
  } catch (e) {
    if (gen !== generation) return;
    if (s.workers > 1 && !shardsWorked) {
      return void fallBack(s, e).catch((err: unknown) => post({ type: "error", message: messageOf(err) }));
    }
    setState("paused");
    post({ type: "error", message: `training stopped: ${messageOf(e)}` });
    return;
  }
  setTimeout(() => void loop(gen, token), 0);
};

const start = (): void => {
  marks = [{ t: performance.now(), steps: session?.steps() ?? 0 }];
  setState("running");
  lastPreview = performance.now();
  run += 1;
  void loop(generation, run);
};

/**
 * The shard workers failed before any step of theirs succeeded: this thread trains from now on,
 * from where `s` is (no step of it succeeded, so its parameters are still here, its optimizer
 * state fresh), and goes on training if it was.
 */
const fallBack = async (s: Session<number | Promise<number>>, reason: unknown): Promise<void> => {
  console.warn(
    `Rewind playground: the shard workers failed before their first step (${messageOf(reason)}); ` +
      "training on one thread instead",
  );
  void shards?.close().catch(() => undefined);
  shards = undefined;
  const wasRunning = state === "running";
  const next = createSession(s.config, taskFor(s.config, data));
  const file = readWeights(await s.save());
  if (E.isRight(file)) next.load(file.right.tensors, s.steps());
  install(next);
  if (wasRunning) start();
};

const load = (bytes: Uint8Array, fileName: string): void => {
  const file = readWeights(bytes);
  if (E.isLeft(file)) return post({ type: "loadError", fileName, message: file.left });
  // Build the file's model beside the current one, and switch only when the weights fit it.
  const next = sessionFor(file.right.config, session?.device ?? "cpu");
  const loaded = next.load(file.right.tensors, file.right.step);
  if (E.isLeft(loaded)) return post({ type: "loadError", fileName, message: loaded.left });
  install(next);
  post({ type: "loaded", config: file.right.config, fileName });
};

const handle = (m: ToWorker): void => {
  switch (m.type) {
    case "configure":
      return build(m.config, m.device);
    case "reset":
      if (session !== undefined) build(session.config, session.device);
      return;
    case "start":
      if (session === undefined || state === "running" || state === "building") return;
      return start();
    case "pause":
      if (session === undefined || state !== "running") return;
      setState("paused");
      return postPreview(session);
    case "save": {
      if (session === undefined) return;
      const s = session;
      const { task, cell, hidden } = s.config;
      const saved = (bytes: Uint8Array): void =>
        post({ type: "saved", bytes, fileName: `rewind-${task}-${cell}${hidden}-step${s.steps()}.safetensors` }, [
          bytes.buffer,
        ]);
      const bytes = s.save();
      if (!(bytes instanceof Promise)) return saved(bytes);
      bytes.then(saved, (e: unknown) => post({ type: "error", message: `saving failed: ${messageOf(e)}` }));
      return;
    }
    case "load":
      return load(m.bytes, m.fileName);
  }
};

/**
 * After every WebGPU probe: the page learns the outcome (it offers "WebGPU" once it knows); when
 * the device in use was lost, a WebGPU session starts again from its seed on the new device, or
 * stops saying there is none.
 */
const onDevices = (r: DeviceReport): void => {
  post({ type: "devices", webgpu: r.probe });
  if (r.lost === undefined || session?.device !== "webgpu") return;
  const lost = `The WebGPU device was lost (${r.lost})`;
  if (!r.probe.available) {
    generation += 1; // its steps can only fail now
    setState("idle");
    return post({ type: "error", message: `${lost}, and no new one is available (${r.probe.reason}): choose CPU.` });
  }
  post({ type: "error", message: `${lost}; training starts again from the seed on a new device.` });
  try {
    build(session.config, "webgpu");
  } catch (e) {
    setState("idle");
    post({ type: "error", message: messageOf(e) });
  }
};
const gpus = keepWebGpu(onDevices);

scope.addEventListener("message", (e) => {
  try {
    handle(e.data);
  } catch (err) {
    if (state === "building") setState(session === undefined ? "building" : "idle");
    post({ type: "error", message: messageOf(err) });
  }
});
