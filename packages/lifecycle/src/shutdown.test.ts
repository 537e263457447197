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
});
