import { z } from 'zod';
import { fieldMessage } from '../../src/api/routing/validation';

function messageFor(schema: z.ZodType, input: unknown): string {
  const result = schema.safeParse(input);
  const issue = result.error?.issues[0];
  if (!issue) {
    throw new Error('expected a refusal');
  }
  return fieldMessage(issue);
}

describe('field messages of bounds', () => {
  it.each([
    [z.number().max(1), 2, 'Must be less than or equal to 1.'],
    [z.number().lt(0.5), 0.5, 'Must be less than 0.5.'],
    [z.number().min(1), 0, 'Must be greater than or equal to 1.'],
    [z.number().gt(0), 0, 'Must be greater than 0.'],
  ])('when %# a bound is crossed, the message says whether the bound itself is allowed', (schema, input, message) => {
    expect(messageFor(schema, input)).toBe(message);
  });
});
