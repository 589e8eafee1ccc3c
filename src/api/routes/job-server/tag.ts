/** The OpenAPI tag of the seed-004 job-server protocol's routes. */
export const JOB_SERVER_TAG = 'job-server';
