import { Writable } from 'node:stream';
import { createLogger } from '@boarding/logger/logger';
import { ShutdownRegistry } from './shutdown';

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });

describe('ShutdownRegistry', () => {
  it('stops parts once, in reverse order of registration', async () => {
    const order: string[] = [];
    const registry = new ShutdownRegistry(quiet);
    registry.register('connections', async () => void order.push('connections'));
    registry.register('intake', async () => void order.push('intake'));
    await Promise.all([registry.stop(), registry.stop()]);
    expect(order).toEqual(['intake', 'connections']);
  });

  it('keeps stopping the rest when one part fails, and reports the failure', async () => {
    const order: string[] = [];
    const registry = new ShutdownRegistry(quiet);
    registry.register('a', async () => void order.push('a'));
    registry.register('b', async () => {
      throw new Error('boom');
    });
    await expect(registry.stop()).rejects.toThrow('a part failed to stop');
    expect(order).toEqual(['a']);
  });

  it('stopWithin: true once every part stopped, false when a part is still waiting at the deadline', async () => {
    const quick = new ShutdownRegistry(quiet);
    quick.register('pool', async () => undefined);
    await expect(quick.stopWithin(1000)).resolves.toBe(true);

    // A connection to a server that stopped answering: its close never returns.
    const stuck = new ShutdownRegistry(quiet);
    const order: string[] = [];
    stuck.register('pool', async () => void order.push('pool'));
    stuck.register('consumer', () => new Promise<void>(() => undefined));
    await expect(stuck.stopWithin(30)).resolves.toBe(false);
    expect(order).toEqual([]);
  });

  it('stopWithin rejects as stop() does when a part failed', async () => {
    const registry = new ShutdownRegistry(quiet);
    registry.register('b', async () => {
      throw new Error('boom');
    });
    await expect(registry.stopWithin(1000)).rejects.toThrow('a part failed to stop');
  });
});
