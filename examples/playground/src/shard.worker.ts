/**
 * @file A shard worker: the training worker starts two of these when the page is cross-origin
 * isolated and each runs the data-parallel step on its rows of every batch (parallel/step.ts),
 * meeting the other at `pmean` through shared memory.
 */
import { serve } from "@rewind/workers/browser";
import { mobyDick, names } from "virtual:rewind-datasets";
import { shardStep } from "./parallel/step.js";

serve({ step: shardStep({ names, mobyDick }) });
