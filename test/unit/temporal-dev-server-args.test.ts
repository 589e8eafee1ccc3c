import { devServerArgs } from '../../src/dev/temporal-dev-server';

describe('devServerArgs', () => {
  const base = {
    cliPath: '/bin/temporal',
    ip: '127.0.0.1',
    port: 7233,
    logLevel: 'warn',
    namespace: 'default',
    searchAttributes: { TrainingState: 'Keyword', TrainingRound: 'Int' },
    dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 40, 'some.string': 'x' },
  };

  it('when given a UI port and a database file, passes both with every search attribute and config value', () => {
    const args = devServerArgs({ ...base, uiPort: 8233, dbPath: '/state/temporal.sqlite' });
    expect(args.slice(0, 2)).toEqual(['server', 'start-dev']);
    expect(args.join(' ')).toContain('--ui-port 8233');
    expect(args.join(' ')).toContain('--db-filename /state/temporal.sqlite');
    expect(args.join(' ')).toContain('--search-attribute TrainingState=Keyword');
    expect(args.join(' ')).toContain('--search-attribute TrainingRound=Int');
    expect(args.join(' ')).toContain('--dynamic-config-value limit.historyCount.suggestContinueAsNew=40');
    expect(args.join(' ')).toContain('--dynamic-config-value some.string="x"');
    expect(args).not.toContain('--headless');
  });

  it('when no UI port or file is given, runs headless and in memory', () => {
    const args = devServerArgs({ ...base, uiPort: undefined, dbPath: undefined });
    expect(args).toContain('--headless');
    expect(args).not.toContain('--db-filename');
  });
});
