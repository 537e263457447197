import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/**
 * Write `chunks` to `sink` in order, at most `depth` not yet written, and hand each to
 * `written` once `sink` is done with it (its write callback: a file has written it, zlib has
 * read it), so its buffer can be reused. Ends `sink` and waits for it to finish; the first
 * failure of either side is thrown (the caller destroys `sink`).
 */
export async function writeInOrder(
  chunks: AsyncIterable<Buffer>,
  sink: Writable,
  written: (chunk: Buffer) => void,
  depth = 4,
): Promise<void> {
  const ended = finished(sink);
  // Awaited below, or the caller's failure path destroys the sink: never unhandled.
  ended.catch(() => undefined);
  const writing: Promise<void>[] = [];
  for await (const chunk of chunks) {
    const write = new Promise<void>((resolve, reject) => {
      sink.write(chunk, (err) => {
        if (err) return reject(err);
        // Inside a stream's callback a throw would be uncaught: it fails this write instead.
        try {
          written(chunk);
          resolve();
        } catch (failure) {
          reject(failure);
        }
      });
    });
    write.catch(() => undefined);
    writing.push(write);
    if (writing.length >= depth) await writing.shift();
  }
  await Promise.all(writing);
  sink.end();
  await ended;
}
