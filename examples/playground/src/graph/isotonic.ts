/**
 * @file Weighted isotonic regression by pool-adjacent-violators: the non-decreasing sequence
 * closest to the given values in weighted least squares. The layout uses it to place a rank's
 * boxes as near their wanted positions as the rank's order and spacing allow.
 */

/**
 * The non-decreasing fit to `values` minimising Σ wᵢ (fitᵢ − valueᵢ)²; weights must be positive.
 * @example isotonic([1, 3, 2, 4], [1, 1, 1, 1]) // [1, 2.5, 2.5, 4]
 */
export const isotonic = (values: readonly number[], weights: readonly number[]): number[] => {
  // Blocks of pooled neighbours: their weighted mean, total weight and size.
  const blocks: Array<{ mean: number; weight: number; size: number }> = [];
  values.forEach((v, i) => {
    blocks.push({ mean: v, weight: weights[i]!, size: 1 });
    while (blocks.length > 1 && blocks[blocks.length - 2]!.mean > blocks[blocks.length - 1]!.mean) {
      const b = blocks.pop()!;
      const a = blocks[blocks.length - 1]!;
      const weight = a.weight + b.weight;
      blocks[blocks.length - 1] = {
        mean: (a.mean * a.weight + b.mean * b.weight) / weight,
        weight,
        size: a.size + b.size,
      };
    }
  });
  return blocks.flatMap((b) => new Array<number>(b.size).fill(b.mean));
};
