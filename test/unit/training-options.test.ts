import { createTrainingBody } from '../../src/api/routes/trainings/schemas';

/** The issues of a training body with these options, as `path: message`; empty when it is accepted. */
function issuesOf(method: string, options: Record<string, unknown>): string[] {
  const result = createTrainingBody.safeParse({
    model_id: '00000000-0000-0000-0000-000000000001',
    target_num_updates: 1,
    aggregation_method: method,
    options,
  });
  return result.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];
}

describe('training options of the robust strategies', () => {
  it.each(['one_shot', 'iterative'])('when Bulyan gets selection_rule %s, the body is accepted', (rule) => {
    expect(issuesOf('Bulyan', { num_malicious_nodes: 1, selection_rule: rule })).toEqual([]);
  });

  it('when Bulyan gets a selection_rule it does not know, the option is refused', () => {
    expect(issuesOf('Bulyan', { selection_rule: 'sideways' })).toHaveLength(1);
    expect(issuesOf('Bulyan', { selection_rule: 'sideways' })[0]).toMatch(/^options\.selection_rule: /);
  });

  it.each(['Krum', 'MultiKrum', 'FedAvg'])('when %s gets selection_rule, it is an unknown field', (method) => {
    expect(issuesOf(method, { selection_rule: 'iterative' })).toEqual(['options.selection_rule: Unknown field.']);
  });
});
