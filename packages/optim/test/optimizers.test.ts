/**
 * @file Each optimizer against its textbook update, written here independently with plain
 * JavaScript numbers (no library ops), for a few steps on random pytrees of float64 tensors.
 * The references follow the papers and PyTorch's documented algorithms, not Optax's code.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import { GraphException } from "@rewind/autodiff";
import {
  adagrad,
  adam,
  adamw,
  maskByPath,
  rmsprop,
  sgd,
  exponentialDecay,
  applyUpdates,
  learningRateAt,
  type AnyTransformation,
  type Schedule,
} from "../src/index.js";
import { build, expectClose, flat, problemArb, runOptimizer, type Structure } from "./helpers.js";

const STEPS = 4;

/** Runs a reference `step(p, g, t)` (t = 1, 2, ...) that updates `p` in place, returning p after each step. */
const reference = (
  p0: readonly number[],
  grads: readonly number[][],
  step: (p: number[], g: readonly number[], t: number) => void,
): number[][] => {
  const p = [...p0];
  return grads.map((g, i) => {
    step(p, g, i + 1);
    return [...p];
  });
};

const check = (
  structure: Structure,
  params: number[],
  grads: number[][],
  opt: AnyTransformation,
  ref: (p: number[], g: readonly number[], t: number) => void,
): void => {
  const got = runOptimizer(
    opt,
    build(structure, params),
    grads.map((g) => build(structure, g)),
  );
  reference(params, grads, ref).forEach((want, i) => expectClose(got[i]!, want));
};

describe("sgd", () => {
  test.prop([problemArb(STEPS), fc.double({ min: 1e-3, max: 1, noNaN: true })])(
    "plain: θ ← θ − lr·g",
    ({ structure, params, grads }, lr) => {
      check(structure, params, grads, sgd({ learningRate: lr }), (p, g) => {
        for (let i = 0; i < p.length; i++) p[i] = p[i]! - lr * g[i]!;
      });
    },
  );

  test.prop([problemArb(STEPS), fc.double({ min: 0, max: 0.99, noNaN: true }), fc.boolean()])(
    "momentum as PyTorch's SGD: b ← μb + g; θ ← θ − lr·(nesterov ? g + μb : b)",
    ({ structure, params, grads }, mu, nesterov) => {
      const lr = 0.05;
      const buf: number[] = new Array<number>(params.length).fill(0);
      check(structure, params, grads, sgd({ learningRate: lr, momentum: mu, nesterov }), (p, g) => {
        for (let i = 0; i < p.length; i++) {
          buf[i] = mu * buf[i]! + g[i]!;
          p[i] = p[i]! - lr * (nesterov ? g[i]! + mu * buf[i]! : buf[i]!);
        }
      });
    },
  );
});

describe("adagrad", () => {
  test.prop([problemArb(STEPS)])("min-char-rnn: mem += g²; θ −= lr·g/√(mem + 1e-8)", ({ structure, params, grads }) => {
    const mem: number[] = new Array<number>(params.length).fill(0);
    check(structure, params, grads, adagrad({ learningRate: 0.1, initialAccumulator: 0, eps: 1e-8 }), (p, g) => {
      for (let i = 0; i < p.length; i++) {
        mem[i] = mem[i]! + g[i]! * g[i]!;
        p[i] = p[i]! - (0.1 * g[i]!) / Math.sqrt(mem[i]! + 1e-8);
      }
    });
  });

  test.prop([problemArb(STEPS)])(
    "defaults: accumulator from 0.1, eps 1e-7 inside the root",
    ({ structure, params, grads }) => {
      const acc: number[] = new Array<number>(params.length).fill(0.1);
      check(structure, params, grads, adagrad({ learningRate: 0.5 }), (p, g) => {
        for (let i = 0; i < p.length; i++) {
          acc[i] = acc[i]! + g[i]! ** 2;
          p[i] = p[i]! - (0.5 * g[i]!) / Math.sqrt(acc[i]! + 1e-7);
        }
      });
    },
  );

  it("a zero gradient with zero accumulator and eps = 0 moves nothing (no 0/0)", () => {
    const opt = adagrad({ learningRate: 1, initialAccumulator: 0, eps: 0 });
    const p = { w: T.tensor([1, 2], "float64") };
    const [u] = opt.update({ w: T.tensor([0, 3], "float64") }, opt.init(p), p);
    expect(flat(applyUpdates(p, u))).toEqual([1, 1]);
  });
});

describe("rmsprop", () => {
  test.prop([problemArb(STEPS), fc.constantFrom(0.9, 0.95, 0.99), fc.boolean()])(
    "ν ← ρν + (1−ρ)g²; θ ← θ − lr·g/√(ν + eps) (or /(√ν + eps), PyTorch)",
    ({ structure, params, grads }, decay, epsInSqrt) => {
      const nu: number[] = new Array<number>(params.length).fill(0);
      const lr = 0.01;
      const eps = 1e-8;
      check(structure, params, grads, rmsprop({ learningRate: lr, decay, eps, epsInSqrt }), (p, g) => {
        for (let i = 0; i < p.length; i++) {
          nu[i] = decay * nu[i]! + (1 - decay) * g[i]! ** 2;
          p[i] = p[i]! - (lr * g[i]!) / (epsInSqrt ? Math.sqrt(nu[i]! + eps) : Math.sqrt(nu[i]!) + eps);
        }
      });
    },
  );

  test.prop([problemArb(STEPS), fc.double({ min: 0, max: 0.95, noNaN: true })])(
    "centered, with momentum applied as PyTorch does: b ← μb + g/√(ν − m² + eps); θ ← θ − lr·b",
    ({ structure, params, grads }, mu) => {
      const n = params.length;
      const [nu, m, buf] = [new Array<number>(n).fill(0), new Array<number>(n).fill(0), new Array<number>(n).fill(0)];
      const [lr, rho, eps] = [0.01, 0.9, 1e-6];
      check(
        structure,
        params,
        grads,
        rmsprop({ learningRate: lr, decay: rho, eps, centered: true, momentum: mu }),
        (p, g) => {
          for (let i = 0; i < n; i++) {
            nu[i] = rho * nu[i]! + (1 - rho) * g[i]! ** 2;
            m[i] = rho * m[i]! + (1 - rho) * g[i]!;
            buf[i] = mu * buf[i]! + g[i]! / Math.sqrt(nu[i]! - m[i]! ** 2 + eps);
            p[i] = p[i]! - lr * buf[i]!;
          }
        },
      );
    },
  );
});

/** Kingma & Ba, Algorithm 1, with decoupled decay `wd·θ` scaled by the step's learning rate. */
const adamReference = (
  n: number,
  lr: number | Schedule,
  b1: number,
  b2: number,
  eps: number,
  wd = 0,
  decays: readonly boolean[] = [],
) => {
  const [m, v] = [new Array<number>(n).fill(0), new Array<number>(n).fill(0)];
  return (p: number[], g: readonly number[], t: number): void => {
    const rate = learningRateAt(lr, t - 1);
    for (let i = 0; i < n; i++) {
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      const mHat = m[i]! / (1 - b1 ** t);
      const vHat = v[i]! / (1 - b2 ** t);
      p[i] = p[i]! - rate * (mHat / (Math.sqrt(vHat) + eps) + (decays[i] === true ? wd * p[i]! : 0));
    }
  };
};

describe("adam", () => {
  test.prop([
    problemArb(STEPS),
    fc.constantFrom(0.9, 0.5, 0),
    fc.constantFrom(0.999, 0.99),
    fc.constantFrom(1e-8, 1e-3),
  ])("bias-corrected moments: θ ← θ − lr·m̂/(√v̂ + eps)", ({ structure, params, grads }, b1, b2, eps) => {
    check(
      structure,
      params,
      grads,
      adam({ learningRate: 0.01, b1, b2, eps }),
      adamReference(params.length, 0.01, b1, b2, eps),
    );
  });

  test.prop([problemArb(STEPS)])("with a schedule: step t uses lr(t − 1)", ({ structure, params, grads }) => {
    const lr = exponentialDecay({ initValue: 0.1, transitionSteps: 1, decayRate: 0.5 });
    check(structure, params, grads, adam({ learningRate: lr }), adamReference(params.length, lr, 0.9, 0.999, 1e-8));
  });
});

describe("adamw", () => {
  test.prop([problemArb(STEPS), fc.double({ min: 0, max: 0.5, noNaN: true })])(
    "decoupled decay on every leaf: θ ← θ − lr·(m̂/(√v̂ + eps) + λθ)",
    ({ structure, params, grads }, wd) => {
      const decays = params.map(() => true);
      check(
        structure,
        params,
        grads,
        adamw({ learningRate: 0.01, weightDecay: wd }),
        adamReference(params.length, 0.01, 0.9, 0.999, 1e-8, wd, decays),
      );
    },
  );

  it("the default weight decay is Optax's 1e-4", () => {
    const p = { w: T.tensor([2], "float64") };
    const zero = { w: T.tensor([0], "float64") };
    const opt = adamw({ learningRate: 1 });
    const [u] = opt.update(zero, opt.init(p), p);
    expect(flat(u)[0]).toBeCloseTo(-2e-4, 15);
  });

  const params = {
    b: T.tensor([1, 1], "float64"),
    layers: [{ bias: T.tensor([1], "float64"), w: T.tensor([1], "float64") }],
    w: T.tensor([1], "float64"),
  };
  const zeros = {
    b: T.tensor([0, 0], "float64"),
    layers: [{ bias: T.tensor([0], "float64"), w: T.tensor([0], "float64") }],
    w: T.tensor([0], "float64"),
  };
  // With zero gradients only the decay moves parameters: decayed leaves become 1 − lr·λ = 0.5.
  const decayed = (mask: Parameters<typeof adamw>[0]["mask"]): number[] => {
    const opt = adamw({ learningRate: 1, weightDecay: 0.5, ...(mask === undefined ? {} : { mask }) });
    return flat(applyUpdates(params, opt.update(zeros, opt.init(params), params)[0]));
  };

  it("a mask pytree, a boolean prefix, or a path predicate selects the decayed leaves", () => {
    // flatten order: b[0], b[1], layers[0].bias, layers[0].w, w
    expect(decayed(undefined)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(decayed({ b: false, layers: [{ bias: false, w: true }], w: true })).toEqual([1, 1, 1, 0.5, 0.5]);
    expect(decayed({ b: true, layers: false, w: true })).toEqual([0.5, 0.5, 1, 1, 0.5]);
    expect(decayed(maskByPath((path) => !path.endsWith("b") && !path.endsWith("bias")))).toEqual([1, 1, 1, 0.5, 0.5]);
    expect(decayed(() => ({ b: false, layers: true, w: false }))).toEqual([1, 1, 0.5, 0.5, 1]);
  });

  it("a mask that does not fit the parameters names the path", () => {
    expect(() => decayed({ b: true, layers: [true, true], w: true })).toThrow(
      /pytree mismatch at \.layers: the parameters hold 1 elements here, the mask 2 elements/,
    );
    expect(() => decayed({ b: true, layers: true })).toThrow(/at \.w: the mask has no entry/);
    expect(() => decayed({ b: true, layers: true, w: true, x: false })).toThrow(
      /at \.x: the mask has an entry the parameters lack/,
    );
    expect(() => decayed({ b: true, layers: true, w: 1 as unknown as boolean })).toThrow(GraphException);
  });

  it("weight decay without params is a clear error", () => {
    const opt = adamw({ learningRate: 1 });
    expect(() => opt.update(zeros, opt.init(params))).toThrow(
      /addDecayedWeights: weight decay needs the current parameters/,
    );
  });
});

describe("hyperparameters are checked", () => {
  it("rejects NaN, out-of-range and non-numbers with the optimizer's name", () => {
    expect(() => sgd({ learningRate: NaN })).toThrow(/sgd: learningRate must be a finite number, got NaN/);
    expect(() => adam({ learningRate: 1e-3, b1: 1.5 })).toThrow(
      /scaleByAdam: b1 must be a number in \[0, 1\], got 1.5/,
    );
    expect(() => sgd({ learningRate: 0.1, momentum: -1 })).toThrow(/sgd: momentum must be a number in \[0, 1\]/);
    expect(() => adagrad({ learningRate: 0.1, eps: -1 })).toThrow(T.TensorException);
  });
});
