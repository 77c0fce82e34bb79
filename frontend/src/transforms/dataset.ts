/**
 * Prediction summaries of the dataset view.
 */

export interface ClassAccuracy {
  cls: number;
  count: number;
  correct: number;
  /** correct / count, null for a class without inputs. */
  accuracy: number | null;
  /** Most frequent wrong prediction and how often, or null. */
  confusedWith: { cls: number; count: number } | null;
}

/**
 * Per-class accuracy from labels and predictions.
 *
 * Args:
 *   labels: true class of each input.
 *   predictions: predicted class of each input (same length).
 *   nClasses: number of classes (classes without inputs are listed too).
 */
export function perClassAccuracy(
  labels: readonly number[],
  predictions: readonly number[],
  nClasses: number,
): ClassAccuracy[] {
  if (labels.length !== predictions.length) {
    throw new RangeError(`labels (${labels.length}) and predictions (${predictions.length}) differ in length`);
  }
  if (!Number.isInteger(nClasses) || nClasses < 0) throw new RangeError(`nClasses must be >= 0, got ${nClasses}`);
  const count = new Array<number>(nClasses).fill(0);
  const correct = new Array<number>(nClasses).fill(0);
  const wrong: Array<Map<number, number>> = Array.from({ length: nClasses }, () => new Map());
  labels.forEach((y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= nClasses) {
      throw new RangeError(`label ${y} of input ${i} outside 0..${nClasses - 1}`);
    }
    const p = predictions[i];
    count[y]++;
    if (p === y) correct[y]++;
    else wrong[y].set(p, (wrong[y].get(p) ?? 0) + 1);
  });
  return count.map((n, cls) => {
    let confusedWith: ClassAccuracy["confusedWith"] = null;
    for (const [c, k] of wrong[cls]) {
      if (!confusedWith || k > confusedWith.count || (k === confusedWith.count && c < confusedWith.cls)) {
        confusedWith = { cls: c, count: k };
      }
    }
    return { cls, count: n, correct: correct[cls], accuracy: n > 0 ? correct[cls] / n : null, confusedWith };
  });
}

/** Parse a K text field: empty -> null (X-Means); else a positive integer or NaN. */
export function parseK(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  if (!/^\d+$/.test(t)) return NaN;
  const k = Number(t);
  return k >= 1 ? k : NaN;
}
