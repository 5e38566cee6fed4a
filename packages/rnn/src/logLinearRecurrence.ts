/**
 * @file `logLinearRecurrence`: the linear recurrence h_t = a_t ⊙ h_{t−1} + b_t for positive a and
 * b, computed entirely in log space (Heinsen 2023, "Efficient Parallelization of a Ubiquitous
 * Sequential Computation", arXiv 2311.06281, eq. 2–3):
 *
 *     a*_t   = Σ_{s≤t} log a_s                                  (cumsum)
 *     log h_t = a*_t + log(h_0 + Σ_{s≤t} exp(log b_s − a*_s))   (logcumsumexp over [log h_0, log b_s − a*_s])
 *
 * Why a separate function and not an option of `linearRecurrence`: its arguments and results are
 * logarithms (a different domain, as `logsumexp` is not an option of `sum`), and a JAX user
 * porting Heinsen's `parallel_scan_log(log_coeffs, log_values)` or the log-space minGRU expects
 * log h back, to feed the next log-space layer without an exp/log round trip. Nothing is ever
 * exponentiated whole: the product Π a_s that underflows the plain form (0.5⁴⁰⁹⁶ is 0 in float32
 * and float64) stays a sum of logs. The price is cancellation in a*_t + (…): the absolute error
 * of log h grows with |a*_t| (one ulp of a*_t), i.e. a relative error in h of ~|a*_t|·ε.
 *
 * Lengths follow `rnn` and `linearRecurrence`: a padded step is the identity map (log a = 0,
 * log b = −∞, i.e. a = 1, b = 0), so the state is frozen past a sample's length, and the outputs
 * there are −∞ — log 0, the log of `linearRecurrence`'s zero outputs. The padding is written with
 * `where`, whose gradient is exactly 0 at the masked steps, and logcumsumexp's gradient is 0 (not
 * NaN) at −∞ entries, so gradients stay finite.
 *
 * Requirement: log a must be finite (a > 0). A coefficient of exactly 0 (log a = −∞) makes a* −∞
 * and log b − a* +∞, whose sum is NaN; clamp log a from below (e.g. at −1e4) if gates can saturate.
 * log b and log h0 may be −∞ (b = 0, h0 = 0).
 */
import * as T from "@rewind/tensor";
import {
  add,
  broadcastTo,
  concat,
  cumsum,
  expandDims,
  logcumsumexp,
  slice,
  sub,
  where,
  type Value,
} from "@rewind/autodiff";
import {
  readRecurrence,
  stepAt,
  type LinearRecurrenceOptions,
  type LinearRecurrenceResult,
  type RecurrenceNames,
} from "./linearRecurrence.js";

const OP = "logLinearRecurrence";
const NAMES: RecurrenceNames = { a: "logA", b: "logB", h0: "logH0" };

/**
 * log h_t for h_t = a_t ⊙ h_{t−1} + b_t with a, b > 0, from the logarithms `logA`, `logB`
 * (`[batch, time, ...features]`, or `[time, batch, ...]` with `timeMajor`; `logA` may broadcast,
 * e.g. one log decay per feature) and `logH0` (`[batch, ...features]`; h0 = 0, i.e. −∞, when
 * omitted). Returns log h: `outputs` (−∞ past each sample's length, i.e. h = 0) and `finalCarry`
 * (the log state after the last valid step; reversed: after step 0). Same options and semantics as
 * `linearRecurrence`, of which it is the log: exp(outputs) equals its outputs for positive inputs,
 * but stays finite where products of many a_t underflow. Differentiable, jittable, batchable.
 * @example
 * // log-space minGRU (Feng et al. 2024 §3.1): log(1 − z) = −softplus(k), log z = −softplus(−k)
 * const logZ = neg(softplus(neg(k)));
 * const { outputs } = logLinearRecurrence(neg(softplus(k)), add(logZ, logHTilde), logH0, { lengths });
 * const h = exp(outputs); // [batch, time, hidden]
 */
export const logLinearRecurrence = (
  logA: Value,
  logB: Value,
  logH0?: Value,
  options: LinearRecurrenceOptions = {},
): LinearRecurrenceResult => {
  const { timeAxis, time, stateShape, reverse, valid } = readRecurrence(OP, NAMES, logA, logB, logH0, options);
  const minusInf = T.scalar(-Infinity, logB.dtype);
  let la = broadcastTo(logA, logB.shape);
  let lb = logB;
  if (valid !== undefined) {
    la = where(valid, la, T.scalar(0, logB.dtype));
    lb = where(valid, lb, minusInf);
  }
  // a*_t: the log of the product of the coefficients from the first step processed up to t.
  const aStar = cumsum(la, { axis: timeAxis, reverse });
  let terms = sub(lb, aStar);
  // log h0 joins the sum as one more term before the first step processed (a* is 0 there).
  if (logH0 !== undefined) {
    const h0Term = expandDims(logH0, timeAxis);
    terms = concat(reverse ? [terms, h0Term] : [h0Term, terms], timeAxis);
  }
  let sums = logcumsumexp(terms, { axis: timeAxis, reverse });
  if (logH0 !== undefined) {
    const window = reverse ? { start: 0, stop: time } : { start: 1, stop: time + 1 };
    sums = slice(sums, [...new Array<null>(timeAxis).fill(null), window]);
  }
  const logH = add(aStar, sums);
  const outputs = valid === undefined ? logH : where(valid, logH, minusInf);
  const finalCarry =
    time === 0 ? (logH0 ?? broadcastTo(minusInf, stateShape)) : stepAt(logH, timeAxis, reverse ? 0 : time - 1);
  return { outputs, finalCarry };
};
