/**
 * @file The page: starts the training worker, sends it the user's choices and commands, and
 * shows what it reports — the loss chart, steps per second, samples or forecasts, the traced
 * graphs, and saved or loaded weights. All training happens in the worker. "WebGPU" is offered
 * beside "CPU" once the worker found an adapter; the last steps/s measured on each device stay
 * shown side by side, so the two can be compared.
 */
import { createLossChart } from "./charts/lossChart.js";
import { showPreview } from "./charts/previewView.js";
import { byId, el } from "./dom.js";
import { createModelView } from "./graph/modelView.js";
import {
  DEVICE_LABELS,
  HIDDEN_SIZES,
  type CellName,
  type DeviceName,
  type FromWorker,
  type RunConfig,
  type RunState,
  type TaskName,
  type ToWorker,
} from "./protocol.js";

const DEFAULT_HIDDEN = 32;

const ui = {
  task: byId("task", HTMLSelectElement),
  cell: byId("cell", HTMLSelectElement),
  hidden: byId("hidden", HTMLSelectElement),
  seed: byId("seed", HTMLInputElement),
  device: byId("device", HTMLSelectElement),
  deviceSpeeds: byId("device-speeds", HTMLElement),
  deviceNote: byId("device-note", HTMLElement),
  start: byId("start", HTMLButtonElement),
  reset: byId("reset", HTMLButtonElement),
  save: byId("save", HTMLButtonElement),
  load: byId("load", HTMLInputElement),
  state: byId("state", HTMLElement),
  steps: byId("steps", HTMLElement),
  speed: byId("speed", HTMLElement),
  workers: byId("workers", HTMLElement),
  loss: byId("loss", HTMLElement),
  lossUnit: byId("loss-unit", HTMLElement),
  summary: byId("summary", HTMLElement),
  message: byId("message", HTMLElement),
  preview: byId("preview", HTMLDivElement),
  previewTitle: byId("preview-title", HTMLElement),
  previewNote: byId("preview-note", HTMLElement),
};
ui.hidden.replaceChildren(
  ...HIDDEN_SIZES.map((h) =>
    el("option", { value: String(h), ...(h === DEFAULT_HIDDEN ? { selected: "" } : {}) }, String(h)),
  ),
);

const chart = createLossChart(byId("loss-chart", HTMLDivElement));
const model = createModelView();
const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const send = (m: ToWorker, transfer: Transferable[] = []): void => worker.postMessage(m, transfer);

let state: RunState = "building";
let recent: number[] = [];
/** Where the current session trains, and the last steps/s measured on each device. */
let device: DeviceName = "cpu";
const speeds = new Map<DeviceName, number>();

const showMessage = (kind: "error" | "info", text: string): void => {
  ui.message.textContent = text;
  ui.message.className = `message ${kind}`;
  ui.message.hidden = false;
};
const clearMessage = (): void => void (ui.message.hidden = true);

const setState = (s: RunState): void => {
  state = s;
  ui.state.textContent = s;
  ui.state.dataset["state"] = s;
  ui.start.textContent = s === "running" ? "Pause" : s === "paused" ? "Resume" : "Start";
  ui.start.disabled = s === "building";
  ui.reset.disabled = s === "building";
  ui.save.disabled = s === "building";
};

const showSteps = (n: number): void => {
  ui.steps.textContent = n.toLocaleString("en");
  ui.steps.dataset["steps"] = String(n);
};

const config = (): RunConfig => ({
  task: ui.task.value as TaskName,
  cell: ui.cell.value as CellName,
  hidden: Number(ui.hidden.value),
  seed: Math.max(0, Math.floor(Number(ui.seed.value) || 0)),
});

const configure = (): void => {
  clearMessage();
  setState("building");
  send({ type: "configure", config: config(), device: ui.device.value as DeviceName });
};

/** "CPU 41.0 steps/s · WebGPU 3.2 steps/s": the last rate measured on each device run so far. */
const showSpeeds = (): void => {
  const shown = (["cpu", "webgpu"] as const).filter((d) => speeds.has(d));
  ui.deviceSpeeds.textContent =
    shown.length === 0 ? "–" : shown.map((d) => `${DEVICE_LABELS[d]} ${speeds.get(d)!.toFixed(1)} steps/s`).join(" · ");
  for (const d of shown) ui.deviceSpeeds.dataset[d] = String(speeds.get(d));
};

/** Offers WebGPU when the worker found an adapter; otherwise keeps it disabled and says why. */
const showWebGpu = (m: Extract<FromWorker, { type: "devices" }>): void => {
  const option = ui.device.querySelector<HTMLOptionElement>('option[value="webgpu"]')!;
  ui.device.dataset["webgpu"] = m.webgpu.available ? "available" : "unavailable";
  if (m.webgpu.available) {
    option.disabled = false;
    option.textContent = `WebGPU (${m.webgpu.adapter})`;
    ui.device.dataset["adapter"] = m.webgpu.adapter;
    ui.device.title = `WebGPU on ${m.webgpu.adapter}; switching device starts the run again from the seed`;
    ui.deviceNote.hidden = true; // a device found again after one was lost
  } else {
    option.disabled = true;
    // The error without its argument and fix under the controls; the whole of it as the tooltip.
    option.title = ui.device.title = m.webgpu.reason;
    option.textContent = "WebGPU (unavailable)";
    ui.deviceNote.textContent = `WebGPU is unavailable: ${m.webgpu.reason.replace(/^webgpu: /, "").split(" (")[0]}.`;
    ui.deviceNote.hidden = false;
  }
};

const download = (bytes: Uint8Array, fileName: string): void => {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }));
  const a = el("a", { href: url, download: fileName });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
};

const onMessage = (m: FromWorker): void => {
  switch (m.type) {
    case "ready":
      chart.reset();
      recent = [];
      model.show(m.graphs);
      ui.summary.textContent = m.summary;
      ui.lossUnit.textContent = `(${m.lossLabel})`;
      ui.loss.textContent = "–";
      ui.speed.textContent = "–";
      device = m.device;
      ui.device.value = m.device;
      ui.workers.dataset["device"] = m.device;
      ui.workers.textContent =
        m.device === "webgpu" ? `WebGPU: ${m.adapter ?? "?"}` : m.workers === 1 ? "1 worker" : `${m.workers} workers`;
      ui.workers.dataset["workers"] = String(m.workers);
      ui.workers.title =
        m.device === "webgpu"
          ? "the whole step on the GPU: parameters and optimizer state stay there, the loss is read back"
          : m.workers === 1
            ? "one thread: two workers need a cross-origin isolated page and two cores"
            : "data-parallel: each worker takes its share of every batch, gradients averaged through shared memory";
      return showSteps(m.step);
    case "devices":
      return showWebGpu(m);
    case "state":
      return setState(m.state);
    case "progress":
      chart.add(m.losses);
      recent = [...recent, ...m.losses].slice(-20);
      showSteps(m.step);
      ui.speed.textContent = m.stepsPerSecond.toFixed(1);
      speeds.set(device, m.stepsPerSecond);
      showSpeeds();
      ui.loss.textContent = (recent.reduce((a, b) => a + b, 0) / recent.length).toFixed(4);
      return;
    case "preview":
      return showPreview(ui.preview, ui.previewTitle, ui.previewNote, m.step, m.preview);
    case "saved":
      download(m.bytes, m.fileName);
      return showMessage("info", `Saved ${m.fileName} (${m.bytes.length.toLocaleString("en")} bytes).`);
    case "loaded":
      ui.task.value = m.config.task;
      ui.cell.value = m.config.cell;
      ui.hidden.value = String(m.config.hidden);
      ui.seed.value = String(m.config.seed);
      return showMessage(
        "info",
        `Loaded ${m.fileName}: ${m.config.task}, ${m.config.cell.toUpperCase()} ${m.config.hidden}. Press Start to train on from here.`,
      );
    case "loadError":
      // A bad file is the user's to fix, not a bug: shown on the page, not logged as an error.
      return showMessage("error", `Could not load ${m.fileName}: ${m.message}`);
    case "error":
      console.error(`playground worker: ${m.message}`);
      return showMessage("error", m.message);
  }
};

worker.addEventListener("message", (e: MessageEvent<FromWorker>) => onMessage(e.data));
worker.addEventListener("error", (e) => {
  console.error(`playground worker failed: ${e.message}`);
  showMessage("error", `The training worker failed: ${e.message}`);
});

for (const input of [ui.task, ui.cell, ui.hidden, ui.seed, ui.device]) input.addEventListener("change", configure);
ui.start.addEventListener("click", () => send({ type: state === "running" ? "pause" : "start" }));
ui.reset.addEventListener("click", () => (clearMessage(), send({ type: "reset" })));
ui.save.addEventListener("click", () => send({ type: "save" }));
ui.load.addEventListener("change", () => {
  const file = ui.load.files?.[0];
  ui.load.value = ""; // choosing the same file again fires "change" again
  if (file === undefined) return;
  void file.arrayBuffer().then(
    (buffer) => send({ type: "load", bytes: new Uint8Array(buffer), fileName: file.name }, [buffer]),
    (e: unknown) => showMessage("error", `Could not read ${file.name}: ${e instanceof Error ? e.message : String(e)}`),
  );
});

configure();
