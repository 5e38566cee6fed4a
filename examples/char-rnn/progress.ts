/**
 * @file What the run shows while it trains: a live progress bar (cli-progress) on a terminal, and
 * plain log lines when stdout is a file or a pipe (CI logs, `| tee`), where a redrawn bar would be
 * a mess of carriage returns. Both show the step, the training loss (smoothed: a single chunk's
 * loss is noisy), the last held-out loss, steps/s and the time left.
 */
import cliProgress from "cli-progress";

export interface Progress {
  readonly step: (step: number, loss: number, stepsPerSecond: number, secondsLeft: number) => void;
  readonly heldOut: (step: number, loss: number) => void;
  /** Text printed above the bar (or as lines). */
  readonly log: (text: string) => void;
  readonly stop: () => void;
}

/** `1m 05s`, `42s`. */
export const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
};

/** The figures both displays show. */
const figures = (last: readonly [number, number] | undefined) => {
  let smooth = NaN;
  let heldOut = last === undefined ? "–" : `${last[1].toFixed(3)} @${last[0]}`;
  return {
    step: (loss: number, stepsPerSecond: number, secondsLeft: number) => {
      smooth = Number.isNaN(smooth) ? loss : 0.9 * smooth + 0.1 * loss;
      return { loss: smooth.toFixed(3), heldOut, rate: stepsPerSecond.toFixed(1), left: formatDuration(secondsLeft) };
    },
    setHeldOut: (step: number, loss: number): string => (heldOut = `${loss.toFixed(3)} @${step}`),
  };
};

/**
 * The progress display for a run from step `from` to `total` (`heldOut`: the last measurement of
 * a resumed run): a bar when `stream` is a terminal, else a line every `~total/20` steps and at
 * every held-out measurement.
 */
export const createProgress = (
  from: number,
  total: number,
  heldOut?: readonly [number, number],
  stream: NodeJS.WriteStream = process.stdout,
): Progress => {
  const f = figures(heldOut);
  const measured = (step: number, loss: number): string =>
    `held-out loss at step ${step}: ${loss.toFixed(3)} nats/char`;
  if (stream.isTTY !== true) {
    const every = Math.max(1, Math.round(total / 20));
    return {
      step: (step, loss, stepsPerSecond, secondsLeft) => {
        const s = f.step(loss, stepsPerSecond, secondsLeft);
        if (step % every === 0 || step === total) {
          stream.write(
            `step ${String(step).padStart(String(total).length)}/${total}  loss ${s.loss}  held-out ${s.heldOut}  ${s.rate} steps/s  ETA ${s.left}\n`,
          );
        }
      },
      heldOut: (step, loss) => {
        f.setHeldOut(step, loss);
        stream.write(`${measured(step, loss)}\n`);
      },
      log: (text) => stream.write(`${text}\n`),
      stop: () => undefined,
    };
  }
  const bars = new cliProgress.MultiBar(
    {
      stream,
      // {eta} is cli-progress's own estimate from the bar's recent speed; ours also counts the evaluations still to come.
      format: " {bar} {value}/{total} | loss {loss} | held-out {heldOut} | {rate} steps/s | ETA {left}",
      barsize: 24,
      hideCursor: true,
      // Signals are handled by main.ts: stop after the current step, save, then stop the bar.
      gracefulExit: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(total, from, {
    loss: "–",
    heldOut: heldOut === undefined ? "–" : `${heldOut[1].toFixed(3)} @${heldOut[0]}`,
    rate: "–",
    left: "–",
  });
  const log = (text: string): void => {
    bars.log(`${text}\n`);
    bars.update(); // draw now: MultiBar.stop() does not flush text logged since the last redraw
  };
  return {
    step: (step, loss, stepsPerSecond, secondsLeft) => bar.update(step, f.step(loss, stepsPerSecond, secondsLeft)),
    heldOut: (step, loss) => {
      bar.update({ heldOut: f.setHeldOut(step, loss) });
      log(measured(step, loss)); // above the bar too, so the scrollback keeps every measurement
    },
    log,
    stop: () => {
      bars.update();
      bars.stop();
    },
  };
};
