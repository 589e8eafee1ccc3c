import { PortTakenError, portTakenIn, retryWhilePortTaken } from '../../scripts/support/throwaway-server';

describe('throwaway server starts', () => {
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());

  it('when a port was taken, starts again and answers the first start that succeeds', async () => {
    let calls = 0;
    const server = await retryWhilePortTaken(() => {
      calls += 1;
      return calls < 3 ? Promise.reject(new PortTakenError(`start ${calls}: a port was taken`)) : Promise.resolve('up');
    });
    expect(server).toBe('up');
    expect(calls).toBe(3);
    expect(stderr).toHaveBeenCalledWith('start 1: a port was taken; starting again on other ports\n');
  });

  it('when every attempt finds a port taken, fails with the last one after three', async () => {
    let calls = 0;
    const start = (): Promise<never> => Promise.reject(new PortTakenError(`start ${++calls}: a port was taken`));
    await expect(retryWhilePortTaken(start)).rejects.toThrow('start 3: a port was taken');
    expect(calls).toBe(3);
  });

  it('when a start fails for another reason, fails at once', async () => {
    let calls = 0;
    const start = (): Promise<never> => {
      calls += 1;
      return Promise.reject(new Error('roundhouse dev exited with 1'));
    };
    await expect(retryWhilePortTaken(start)).rejects.toThrow('roundhouse dev exited with 1');
    expect(calls).toBe(1);
  });

  it.each([
    ['Go', 'Error: listen tcp 127.0.0.1:7233: bind: address already in use', true],
    ['launcher', '"message":"Port 127.0.0.1:34193 is already in use; stop that process or set TEMPORAL_ADDRESS"', true],
    ['Node', 'Error: listen EADDRINUSE: address already in use 127.0.0.1:8000', true],
    ['Postgres', 'LOG:  could not bind IPv4 address "127.0.0.1": Address already in use', true],
    ['Postgres', 'FATAL:  data directory "/tmp/x" has invalid permissions', false],
    ['nothing', 'Roundhouse is running.', false],
  ])('reads a port taken from a %s log line: %s', (_source, line, taken) => {
    expect(portTakenIn(`before\n${line}\nafter`)).toBe(taken);
  });
});
