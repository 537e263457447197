import { planDay, type SimMessage } from './day';
import { createMemorySink, type MessageSink, produceDay } from './produce-day';

describe('produceDay', () => {
  const plan = planDay({ day: '2020-11-20', taps: 3_000, seed: 5 });

  it('sends every message once, in production order, in batches, reporting progress', async () => {
    const sink = createMemorySink();
    const progress: number[] = [];
    const report = await produceDay({
      plan,
      sink,
      batchSize: 500,
      onProgress: (sent) => progress.push(sent),
    });
    const sent: SimMessage[] = sink.batches.flat();
    expect(sent).toEqual([...plan.messages()]);
    expect(report.messages).toBe(plan.messageCount);
    expect(sink.batches.every((b, i) => b.length === (i < sink.batches.length - 1 ? 500 : b.length))).toBe(
      true,
    );
    expect(progress.at(-1)).toBe(plan.messageCount);
    expect(report.batches).toBe(Math.ceil(plan.messageCount / 500));
  });

  it('fails with the sink’s error and sends nothing after it', async () => {
    let calls = 0;
    const failing: MessageSink = {
      send: async () => {
        calls++;
        if (calls === 2) throw new Error('broker away');
      },
    };
    await expect(produceDay({ plan, sink: failing, batchSize: 100 })).rejects.toThrow('broker away');
    expect(calls).toBe(2);
  });
});
