import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import { writeInOrder } from './write-in-order';

async function* chunksOf(buffers: Buffer[], failAt = -1) {
  for (const [i, b] of buffers.entries()) {
    if (i === failAt) throw new Error('the source failed');
    await new Promise((resolve) => setImmediate(resolve));
    yield b;
  }
}

describe('writeInOrder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'write-in-order-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // Each buffer is overwritten as soon as it is handed back: what reaches the file must be what
  // was written, so the sink must be done with a buffer before `written` has it.
  const data = Array.from({ length: 40 }, (_, i) => randomBytes(1000 + i * 997));
  const copies = (): Buffer[] => data.map((b) => Buffer.from(b));
  const scribble = (b: Buffer) => b.fill(0x58);

  it('writes every chunk in order to a file, each handed back only once written', async () => {
    const path = join(dir, 'plain');
    await writeInOrder(chunksOf(copies()), createWriteStream(path), scribble);
    expect((await readFile(path)).equals(Buffer.concat(data))).toBe(true);
  });

  it('hands a buffer back through gzip only once zlib has read it', async () => {
    const path = join(dir, 'gz');
    const gzip = createGzip();
    const compressed = pipeline(gzip, createWriteStream(path));
    await writeInOrder(chunksOf(copies()), gzip, scribble);
    await compressed;
    expect(gunzipSync(await readFile(path)).equals(Buffer.concat(data))).toBe(true);
  });

  it('reads ahead of the sink by at most `depth` chunks and hands buffers back in order', async () => {
    const buffers = copies();
    const order: number[] = [];
    let read = 0;
    let most = 0;
    async function* counted() {
      for (const b of buffers) {
        read++;
        most = Math.max(most, read - order.length);
        yield b;
      }
    }
    const slow = new Writable({
      highWaterMark: 1 << 30,
      write(_chunk, _enc, done) {
        setTimeout(done, 2);
      },
    });
    await writeInOrder(counted(), slow, (b) => order.push(buffers.indexOf(b)), 3);
    expect(order).toEqual(buffers.map((_, i) => i));
    expect(most).toBe(3);
  });

  it("rejects with the sink's failure and reads no further", async () => {
    let read = 0;
    async function* counted() {
      for (const b of copies()) {
        read++;
        yield b;
      }
    }
    let writes = 0;
    const failing = new Writable({
      write(_chunk, _enc, done) {
        writes++;
        done(writes === 5 ? new Error('disk full') : null);
      },
    });
    await expect(writeInOrder(counted(), failing, () => undefined, 2)).rejects.toThrow('disk full');
    expect(read).toBeLessThan(data.length);
  });

  it('rejects when handing a buffer back fails, instead of throwing inside the stream', async () => {
    const sink = createWriteStream(join(dir, 'give-back'));
    let n = 0;
    const giveBack = () => {
      if (++n === 3) throw new Error('a slab was given back that is not out');
    };
    await expect(writeInOrder(chunksOf(copies()), sink, giveBack)).rejects.toThrow('not out');
    sink.destroy();
  });

  it("rejects with the source's failure", async () => {
    const sink = createWriteStream(join(dir, 'cut'));
    await expect(writeInOrder(chunksOf(copies(), 7), sink, () => undefined)).rejects.toThrow(
      'the source failed',
    );
    sink.destroy();
  });
});
