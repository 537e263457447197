import { createDb } from '../client';
import { BinaryArrayWriter, type ElementType } from './binary-arrays';

function array(type: ElementType, values: ReadonlyArray<string | number | null>): Buffer {
  const w = new BinaryArrayWriter(type, 4);
  for (const v of values) {
    if (type === 'bool') w.bool(v === null ? null : v === 1);
    else if (type === 'text') w.text(v as string | null);
    else if (type === 'date') w.date(v as string | null);
    else w.int(v as number | null);
  }
  return w.finish();
}

describe('binary arrays read by PostgreSQL (array_recv)', () => {
  const { pool } = createDb({ pool: { max: 1 } });
  afterAll(() => pool.end());

  const read = async (sql: string, param: Buffer) =>
    (await pool.query<{ v: unknown }>(sql, [param])).rows[0]?.v;

  it('gives back every text byte for byte, NULL as NULL, whatever the text holds', async () => {
    const texts = [
      '',
      'plain',
      'a"b\\c',
      '{x,y}',
      'NULL',
      'null',
      ' 😀 ',
      'İzmir Üçyol ğ',
      'x'.repeat(5000),
      null,
    ];
    const v = await read(
      `select json_agg(json_build_array(t, t is null, octet_length(t)) order by o) as v
       from unnest($1::text[]) with ordinality as u(t, o)`,
      array('text', texts),
    );
    expect(v).toEqual(texts.map((t) => [t, t === null, t === null ? null : Buffer.byteLength(t)]));
  });

  it('gives back integers exactly, at the ends of int4 and of the safe int8 range', async () => {
    const big = [
      0,
      1,
      -1,
      4294967295,
      4294967296,
      -4294967297,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      null,
    ];
    expect(await read('select array_to_json($1::int8[]) as v', array('int8', big))).toEqual(big);
    const small = [0, -2147483648, 2147483647, null];
    expect(await read('select array_to_json($1::int4[]) as v', array('int4', small))).toEqual(small);
  });

  it('gives back calendar days, before and after PostgreSQL’s epoch (2000-01-01)', async () => {
    const days = ['1999-12-31', '2000-01-01', '2020-11-18', '2020-02-29', '2099-12-31', null];
    expect(
      await read(
        `select to_json(array(select to_char(d, 'YYYY-MM-DD') from unnest($1::date[]) d)) as v`,
        array('date', days),
      ),
    ).toEqual(days);
  });

  it('gives back booleans, NULL as NULL', async () => {
    expect(await read('select array_to_json($1::bool[]) as v', array('bool', [1, 0, null, 1]))).toEqual([
      true,
      false,
      null,
      true,
    ]);
  });

  it('an empty array is empty, of the type cast to', async () => {
    expect(await read('select cardinality($1::int8[]) as v', array('int8', []))).toBe(0);
    expect(await read('select cardinality($1::text[]) as v', array('text', []))).toBe(0);
  });

  it('PostgreSQL refuses an array of another element type (no silent reinterpretation)', async () => {
    await expect(read('select $1::int8[] as v', array('int4', [1]))).rejects.toThrow(
      /array element type 23 \(integer\) instead of expected 20 \(bigint\)/,
    );
  });

  it('PostgreSQL refuses a NUL in text, as it refuses it in any text (the message’s fault: SQLSTATE 22)', async () => {
    const err = await read('select $1::text[] as v', array('text', ['a\u0000b'])).catch(
      (e: { code?: string }) => e,
    );
    expect((err as { code?: string }).code).toMatch(/^22/);
  });
});
