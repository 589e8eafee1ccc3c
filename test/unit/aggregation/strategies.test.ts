import { isAggregationError } from '../../../src/aggregation/errors';
import { parseParams } from '../../../src/aggregation/strategies/params';
import type { StrategyParams } from '../../../src/aggregation/strategies/params';
import { aggregationMethods, findStrategy, requireStrategy } from '../../../src/aggregation/strategies/registry';

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return isAggregationError(error) ? error.code : 'other';
  }
}

describe('strategy registry', () => {
  it('when asked for the implemented methods, lists them as trainings spell them', () => {
    expect(aggregationMethods()).toEqual([
      'FedAvg',
      'FedDC',
      'FedProx',
      'FedAvgM',
      'FedAdagrad',
      'FedAdam',
      'FedYogi',
      'FedMedian',
      'FedTrimmedAvg',
      'Krum',
      'MultiKrum',
      'Bulyan',
    ]);
  });

  it("when a method keeps server state, its parameters are Flower's with Flower's defaults (Message API τ)", () => {
    const defaults = (method: string): StrategyParams => {
      const strategy = requireStrategy(method);
      return parseParams(strategy.method, strategy.params, {});
    };
    expect(defaults('FedAvgM')).toEqual({ server_learning_rate: 1, server_momentum: 0 });
    expect(defaults('FedAdagrad')).toEqual({ eta: 0.1, eta_l: 0.1, tau: 1e-3 });
    expect(defaults('FedAdam')).toEqual({ eta: 0.1, eta_l: 0.1, beta_1: 0.9, beta_2: 0.99, tau: 1e-3 });
    expect(defaults('FedYogi')).toEqual({ eta: 0.01, eta_l: 0.0316, beta_1: 0.9, beta_2: 0.99, tau: 1e-3 });
  });

  it.each(['FedAvg', 'fedavg', 'FEDAVG'])('when a method is named %s, the lookup ignores case', (name) => {
    expect(findStrategy(name)?.method).toBe('FedAvg');
  });

  it('when a method is unknown, the error lists the implemented ones', () => {
    expect(findStrategy('FedNova')).toBeUndefined();
    expect(() => requireStrategy('FedNova')).toThrow(
      `unknown aggregation method "FedNova"; implemented: FedAvg, FedDC, FedProx, FedAvgM, FedAdagrad, FedAdam, FedYogi, FedMedian, FedTrimmedAvg, Krum, MultiKrum, Bulyan`,
    );
    expect(codeOf(() => requireStrategy('FedNova'))).toBe('aggregation_unknown_method');
  });
});

describe('strategy parameters', () => {
  const fedprox = requireStrategy('FedProx');
  const fedavg = requireStrategy('FedAvg');

  it("when FedProx gets no proximal_mu, Flower's default 0 is filled in; a numeric string is read as a number", () => {
    expect(parseParams(fedprox.method, fedprox.params, {})).toEqual({ proximal_mu: 0 });
    expect(parseParams(fedprox.method, fedprox.params, { proximal_mu: '0.01' })).toEqual({ proximal_mu: 0.01 });
  });

  it.each([
    [{ proximal_mu: -0.1 }, 'aggregation_invalid_parameter'],
    [{ proximal_mu: 'lots' }, 'aggregation_invalid_parameter'],
    [{ proximal_mu: '' }, 'aggregation_invalid_parameter'],
    [{ proximal_mu: Infinity }, 'aggregation_invalid_parameter'],
    [{ proximal_mu: true }, 'aggregation_invalid_parameter'],
    [{ server_momentum: 0.9 }, 'aggregation_unknown_parameter'],
  ])('when FedProx gets %j, it refuses with %s', (raw, code) => {
    expect(codeOf(() => parseParams(fedprox.method, fedprox.params, raw))).toBe(code);
  });

  it('when FedAvg gets any parameter, the error says it takes none', () => {
    expect(() => parseParams(fedavg.method, fedavg.params, { proximal_mu: 0 })).toThrow(
      'FedAvg has no parameter "proximal_mu"; it takes none',
    );
  });

  it('when a bounded integer parameter is declared, bounds and integrality are enforced', () => {
    const specs = [{ name: 'num_malicious_nodes', description: 'f', default: 0, min: 0, max: 10, integer: true }];
    expect(parseParams('Krum', specs, { num_malicious_nodes: '3' })).toEqual({ num_malicious_nodes: 3 });
    expect(codeOf(() => parseParams('Krum', specs, { num_malicious_nodes: 1.5 }))).toBe(
      'aggregation_invalid_parameter',
    );
    expect(codeOf(() => parseParams('Krum', specs, { num_malicious_nodes: 11 }))).toBe('aggregation_invalid_parameter');
  });
});
