import { z } from 'zod';

/** `GET /api/dummy/`: what was created, with the demo actor's credentials, in the reference's field names. */
export const dummyDataResponse = z.object({
  message: z.literal('Created Dummy Data in Metrics Database!'),
  training_uuid: z.uuid(),
  user_uuid: z.uuid(),
  user_credentials: z.object({ username: z.string(), password: z.string(), token: z.string() }),
  participants: z.array(z.uuid()),
});
export type DummyDataResponse = z.output<typeof dummyDataResponse>;
