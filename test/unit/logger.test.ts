import { createLogger } from '../../src/logger';
import { captureLog } from '../support/log-capture';

describe('createLogger', () => {
  it('when a line is below the level, drops it; at or above, writes one JSON line with level, ISO time and message', () => {
    const log = captureLog();
    const logger = createLogger('info', {}, log.destination);
    logger.debug('not written');
    logger.info('written', { round: 3 });
    logger.warn('also written');
    logger.error('and this');
    expect(log.text().split('\n').filter(Boolean)).toHaveLength(3);
    const [first] = log.lines();
    expect(first).toEqual({ level: 'info', time: expect.any(String) as unknown, message: 'written', round: 3 });
    expect(new Date(String(first?.time)).toISOString()).toBe(first?.time);
    expect(log.lines().map((line) => line.level)).toEqual(['info', 'warn', 'error']);
  });

  it('when the level is error, writes only errors', () => {
    const log = captureLog();
    const logger = createLogger('error', {}, log.destination);
    logger.warn('no');
    logger.error('yes');
    expect(log.lines().map((line) => line.message)).toEqual(['yes']);
  });

  it('when a child is made, adds its fields and the base fields to each of its lines, and not to the parent', () => {
    const log = captureLog();
    const root = createLogger('debug', { role: 'worker' }, log.destination);
    const training = root.child({ trainingId: '7' });
    training.child({ clientId: 'c-1' }).debug('upload', { round: 1 });
    root.info('plain');
    const [upload, plain] = log.lines();
    expect(upload).toMatchObject({ role: 'worker', trainingId: '7', clientId: 'c-1', round: 1, message: 'upload' });
    expect(plain).toEqual({ level: 'info', time: plain?.time, role: 'worker', message: 'plain' });
  });

  it('when an error is a field, keeps its name, message, stack, code and cause', () => {
    const log = captureLog();
    const cause = new TypeError('inner');
    const err = Object.assign(new RangeError('outer', { cause }), { code: 'E_RANGE' });
    createLogger('info', {}, log.destination).error('failed', { error: err, others: [new Error('listed')] });
    expect(log.lines()[0]).toMatchObject({
      error: {
        name: 'RangeError',
        message: 'outer',
        stack: err.stack,
        code: 'E_RANGE',
        cause: { name: 'TypeError', message: 'inner', stack: cause.stack },
      },
      others: [{ name: 'Error', message: 'listed' }],
    });
  });

  it('when a field is named like a key of the line, writes it with a leading underscore instead of shadowing it', () => {
    const log = captureLog();
    createLogger('info', {}, log.destination).info('the line', { message: 'a field', level: 9, time: 'then' });
    expect(log.lines()[0]).toMatchObject({
      message: 'the line',
      level: 'info',
      _message: 'a field',
      _level: 9,
      _time: 'then',
    });
  });
});
