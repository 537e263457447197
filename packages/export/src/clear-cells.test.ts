import { BatchCells, ClearCells } from './clear-cells';
import type { DayRows } from './day-file-rows';

/** A batch seen only through its match ids. */
const batchOf = (ids: number[]) => ({ rows: ids.length, matchId: (r: number) => ids[r] ?? -1 }) as DayRows;

/** What a worker sends back for these cells. */
const opened = (cells: string[]) => ({
  cells: Buffer.from(cells.join(''), 'utf8'),
  lengths: Int32Array.from(cells, (c) => Buffer.byteLength(c, 'utf8')),
});

/** A row's first two cells as the day file writes them (RFC 4180 quoting where needed). */
const cellOf = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
const clearCellsOf = (tc: string, hes: string) => `${cellOf(tc)},${cellOf(hes)},`;

const rowsOf = (cells: BatchCells, n: number) =>
  Array.from({ length: n }, (_, r) => cells.bytes.buf.toString('utf8', cells.at[2 * r], cells.at[2 * r + 1]));

describe('the clear cells of a batch', () => {
  const A = clearCellsOf('10000000146', 'ABCD1234X9');
  const B = clearCellsOf('17291716060', 'ZZZZ9999Q1');

  it('asks the workers once per match and gives every row of the match its cells', () => {
    const clear = new ClearCells();
    const cells = new BatchCells(batchOf([7, 9, 7, 7, 9]), clear);
    expect(cells.opening).toEqual([0, 1]);
    cells.fill(opened([A, B]), clear);
    expect(rowsOf(cells, 5)).toEqual([A, B, A, A, B]);
    // A later batch finds them held: nothing to open.
    const next = new BatchCells(batchOf([9, 7]), clear);
    expect(next.opening).toEqual([]);
    next.fill(opened([]), clear);
    expect(rowsOf(next, 2)).toEqual([B, A]);
  });

  it("keeps a held match's cells even when a batch opened in between takes its slot", () => {
    const clear = new ClearCells();
    const first = new BatchCells(batchOf([5]), clear);
    first.fill(opened([A]), clear);
    // Read while match 5 is held; before it is written, another match lands in the same slot.
    const waiting = new BatchCells(batchOf([5]), clear);
    const other = new BatchCells(batchOf([5 + ClearCells.SLOTS]), clear);
    other.fill(opened([B]), clear);
    waiting.fill(opened([]), clear);
    expect(rowsOf(waiting, 1)).toEqual([A]);
    expect(new BatchCells(batchOf([5]), clear).opening).toEqual([0]);
  });

  it('does not keep cells longer than a slot, and opens them again', () => {
    const clear = new ClearCells();
    const long = clearCellsOf('1'.repeat(20), 'quote "me", please');
    const cells = new BatchCells(batchOf([3]), clear);
    cells.fill(opened([long]), clear);
    expect(rowsOf(cells, 1)).toEqual([long]);
    expect(new BatchCells(batchOf([3]), clear).opening).toEqual([0]);
  });

  it('stops on opened cells that do not line up with the rows asked for', () => {
    const clear = new ClearCells();
    const twoAsked = () => new BatchCells(batchOf([1, 2]), clear);
    expect(() => twoAsked().fill(opened([A]), clear)).toThrow('do not line up');
    const short = opened([A, B]);
    expect(() => twoAsked().fill({ ...short, cells: short.cells.subarray(1) }, clear)).toThrow(
      'do not line up',
    );
    expect(() =>
      twoAsked().fill({ ...short, cells: Buffer.concat([short.cells, Buffer.from('x')]) }, clear),
    ).toThrow('do not line up');
  });
});
