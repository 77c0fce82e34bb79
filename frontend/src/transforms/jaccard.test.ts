/**
 * `/jaccard?matrix=counts` decoding: golden blocks (the http_api.md example),
 * and a property against Jaccard computed from explicit sets.
 */
import { describe, expect, it } from "vitest";
import { decodeCounts, jaccardFromCounts, withJaccardMatrix } from "./jaccard";
import { flatten, toCsv } from "../export/csv";
import type { CountsBlock, JaccardResponse } from "../types";

/** A block as the server writes it: little-endian bytes of `dtype`, base64. */
function block(values: number[][], dtype: CountsBlock["dtype"]): CountsBlock {
  const size = { uint8: 1, uint16: 2, uint32: 4 }[dtype];
  const bytes: number[] = [];
  for (const row of values) for (const v of row) for (let k = 0; k < size; k++) bytes.push(Math.floor(v / 256 ** k) % 256);
  return { dtype, shape: [values.length, values[0]?.length ?? 0], base64: btoa(String.fromCharCode(...bytes)) };
}

describe("decodeCounts", () => {
  it("reads the http_api.md example and wider types (golden)", () => {
    expect(Array.from(decodeCounts({ dtype: "uint8", shape: [3, 3], base64: "BAQCBAQCAgIE" }))).toEqual([4, 4, 2, 4, 4, 2, 2, 2, 4]);
    expect(Array.from(decodeCounts({ dtype: "uint16", shape: [1, 1], base64: "AAE=" }))).toEqual([256]);
    expect(Array.from(decodeCounts(block([[70000, 1]], "uint32")))).toEqual([70000, 1]);
  });

  it("refuses a block whose length does not match its shape, and unknown types", () => {
    expect(() => decodeCounts({ dtype: "uint8", shape: [2, 2], base64: "BAQC" })).toThrow(/3 bytes.*needs 4/);
    expect(() => decodeCounts({ dtype: "int8" as CountsBlock["dtype"], shape: [1, 1], base64: "AA==" })).toThrow(/dtype/);
  });
});

describe("jaccardFromCounts", () => {
  it("gives Eq. 1 of explicit sets, 0 between empty sets and 1 on the diagonal (property)", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 25; trial++) {
      const n = 1 + Math.floor(rand() * 9);
      const sets = Array.from({ length: n }, () => new Set(Array.from({ length: 12 }, (_, c) => c).filter(() => rand() < 0.3)));
      const shared = sets.map((a) => sets.map((b) => [...a].filter((c) => b.has(c)).length));
      const rows = jaccardFromCounts(block(shared, trial % 2 ? "uint16" : "uint8"), sets.map((s) => s.size));
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          const union = new Set([...sets[i], ...sets[j]]).size;
          const want = i === j ? 1 : union ? shared[i][j] / union : 0;
          expect(rows[i][j]).toBeCloseTo(want, 6);
        }
    }
  });

  it("refuses a non-square block or a wrong number of set sizes", () => {
    expect(() => jaccardFromCounts(block([[1, 0]], "uint8"), [1])).toThrow(/square/);
    expect(() => jaccardFromCounts(block([[1]], "uint8"), [1, 2])).toThrow(/set size/);
  });
});

describe("withJaccardMatrix", () => {
  const base = { eta: 0.2, top: 4, channels: 16, order: [0, 3, 6], class_boundaries: [0, 3], class_names: ["a"], class_matrix: [[0.5]], range: [0, 1] as [number, number] };
  it("decodes a counts answer and passes a values answer through", () => {
    const counts = withJaccardMatrix({ ...base, shared: { dtype: "uint8", shape: [3, 3], base64: "BAQCBAQCAgIE" }, set_sizes: [4, 4, 4] } as unknown as JaccardResponse);
    expect(counts.matrix.map((r) => Array.from(r, (v) => Number(v.toFixed(6))))).toEqual([
      [1, 1, 0.333333],
      [1, 1, 0.333333],
      [0.333333, 0.333333, 1],
    ]);
    const values = { ...base, matrix: [[1]] } as unknown as JaccardResponse;
    expect(withJaccardMatrix(values)).toBe(values);
    expect(() => withJaccardMatrix(base as unknown as JaccardResponse)).toThrow(/matrix, or shared/);
  });

  it("the CSV of a counts answer holds the similarities to 7 digits, as a values answer's would (golden)", () => {
    const counts = { ...base, shared: { dtype: "uint8", shape: [3, 3], base64: "BAQCBAQCAgIE" }, set_sizes: [4, 4, 4] };
    expect(toCsv(flatten("jaccard", counts))).toBe(
      "input,input_0,input_3,input_6\r\n0,1,1,0.3333333\r\n3,1,1,0.3333333\r\n6,0.3333333,0.3333333,1\r\n",
    );
  });
});
