import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import { retryWhileStarting } from '../../../src/api/retry-while-starting';
import { TrainingErrorCode } from '../../../src/error-reasons';

/** A run's refusal of an Update, as the client raises it. */
function refusal(type: string): WorkflowUpdateFailedError {
  return new WorkflowUpdateFailedError('Workflow Update failed', ApplicationFailure.create({ type, message: type }));
}

describe('retryWhileStarting', () => {
  it('when the run is starting and then accepts, sends again until it does', async () => {
    const answers = [refusal(TrainingErrorCode.STARTING), refusal(TrainingErrorCode.STARTING), 'accepted'];
    let sent = 0;
    await retryWhileStarting(
      Date.now() + 5_000,
      () => {
        const answer = answers[sent++];
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
      1,
    );
    expect(sent).toBe(3);
  });

  it('when the run stays starting past the deadline, throws its last refusal', async () => {
    const last = refusal(TrainingErrorCode.STARTING);
    await expect(retryWhileStarting(Date.now() + 30, () => Promise.reject(last), 1)).rejects.toBe(last);
  });

  it('when the last attempt times out after the run said it was starting, throws the starting refusal', async () => {
    const starting = refusal(TrainingErrorCode.STARTING);
    const timeout = new Error('deadline exceeded');
    let sent = 0;
    await expect(
      retryWhileStarting(Date.now() + 5_000, () => Promise.reject(sent++ === 0 ? starting : timeout), 1),
    ).rejects.toBe(starting);
    expect(sent).toBe(2);
  });

  it('when the run refuses for another reason, or never answered, throws that at once', async () => {
    const slotFilled = refusal(TrainingErrorCode.SLOT_FILLED);
    await expect(retryWhileStarting(Date.now() + 5_000, () => Promise.reject(slotFilled), 1)).rejects.toBe(slotFilled);
    const timeout = new Error('deadline exceeded');
    await expect(retryWhileStarting(Date.now() + 5_000, () => Promise.reject(timeout), 1)).rejects.toBe(timeout);
  });
});
