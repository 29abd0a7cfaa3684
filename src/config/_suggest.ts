/** "Did you mean …?" for misspelt keys and names. @module */

/** Edit distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let r = 0; r < rows; r++) d[r * cols] = r;
  for (let c = 0; c < cols; c++) d[c] = c;
  for (let r = 1; r < rows; r++) {
    for (let c = 1; c < cols; c++) {
      const cost = a[r - 1] === b[c - 1] ? 0 : 1;
      let best = Math.min(
        d[(r - 1) * cols + c]! + 1,
        d[r * cols + c - 1]! + 1,
        d[(r - 1) * cols + c - 1]! + cost,
      );
      if (r > 1 && c > 1 && a[r - 1] === b[c - 2] && a[r - 2] === b[c - 1]) {
        best = Math.min(best, d[(r - 2) * cols + c - 2]! + 1);
      }
      d[r * cols + c] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/** The closest candidate within two edits (and less than half the word), or `undefined`. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= 2 && bestDistance < word.length / 2 ? best : undefined;
}
