/**
 * @file What a task is: a model's parameters, its loss on a batch, a way to draw batches, what to
 * show while it learns, and a tiny batch to trace the model view on. The session (session.ts)
 * turns any task into training steps with one jitted value-and-gradient and an optimizer.
 */
import type { Key } from "@rewind/tensor";
import type { Value } from "@rewind/autodiff";
import type { Preview } from "../protocol.js";

/**
 * A trainable task over parameters `P` and batches `B` (an object of tensors: a pytree, so `jit`
 * and `makeGraph` take it as it is).
 */
export interface Task<P, B> {
  /** One line about the data and the model, for the page. */
  readonly summary: string;
  /** The unit of the loss, e.g. "nats/char". */
  readonly lossLabel: string;
  /** Fresh parameters from a key. */
  readonly init: (key: Key) => P;
  /** The scalar training loss of a batch. */
  readonly loss: (p: P, batch: B) => Value;
  /** The training batch of a key (a pure function of it). */
  readonly batch: (key: Key) => B;
  /**
   * A shard's weight when the batch is split among workers (optional): the whole batch's loss is
   * then the shards' losses weighted by their share of the total weight. Without it the shards
   * weigh the same, which is right for a mean over rows of the same size.
   */
  readonly shardWeight?: (batch: B) => Value;
  /** A batch of one short sequence, to trace the model view on (its graph does not grow with length). */
  readonly graphBatch: B;
  /** What `graphBatch` is, in words. */
  readonly tracedOn: string;
  /** Samples or predictions of the current parameters, drawn from `key`. */
  readonly preview: (p: P, key: Key) => Preview;
  /** Adam's learning rate and the global-norm clip. */
  readonly learningRate: number;
  readonly clip: number;
}
