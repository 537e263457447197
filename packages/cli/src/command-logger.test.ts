import { humanLogLine } from './command-logger';

describe('log lines of a foreground command', () => {
  it('are human lines: time, who, level, message and the fields', () => {
    const json = JSON.stringify({
      level: 40,
      time: Date.parse('2020-11-20T05:15:00.000Z'),
      pid: 42,
      name: 'replay',
      kafka: 'Connection',
      broker: '127.0.0.1:19092',
      err: { message: 'connect ECONNREFUSED', stack: 'Error: …' },
      msg: 'Connection error',
    });
    expect(humanLogLine(`${json}\n`)).toBe(
      '05:15:00 replay   warn: Connection error (kafka=Connection, broker=127.0.0.1:19092, err=connect ECONNREFUSED)\n',
    );
  });

  it('pass on anything that is not JSON as it is', () => {
    expect(humanLogLine('plain words')).toBe('plain words\n');
  });
});
