import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { pollSignal } from '../../../src/api/routing/poll-signal';

/** A response stand-in: only its 'close' event matters here. */
function response(): ServerResponse & EventEmitter {
  return new EventEmitter() as ServerResponse & EventEmitter;
}

describe('pollSignal (what a long-poll waits with)', () => {
  it('when the client leaves, aborts', () => {
    const res = response();
    const poll = pollSignal(res, new AbortController().signal);
    expect(poll.signal.aborted).toBe(false);
    res.emit('close');
    expect(poll.signal.aborted).toBe(true);
  });

  it('when the API begins to stop, aborts every poll under way', () => {
    const stopping = new AbortController();
    const polls = [pollSignal(response(), stopping.signal), pollSignal(response(), stopping.signal)];
    expect(polls.map((poll) => poll.signal.aborted)).toEqual([false, false]);
    stopping.abort();
    expect(polls.map((poll) => poll.signal.aborted)).toEqual([true, true]);
  });

  it('when the API is already stopping, starts aborted', () => {
    const stopping = new AbortController();
    stopping.abort();
    expect(pollSignal(response(), stopping.signal).signal.aborted).toBe(true);
  });

  it('once released, leaves no listener on the response or the stop', () => {
    const res = response();
    const stopping = new AbortController();
    const poll = pollSignal(res, stopping.signal);
    expect(res.listenerCount('close')).toBe(1);
    poll.release();
    expect(res.listenerCount('close')).toBe(0);
    stopping.abort();
    res.emit('close');
    expect(poll.signal.aborted).toBe(false);
  });
});
