import request from 'supertest';
import { z } from 'zod';
import { groupResponse } from '../../src/api/routes/groups/schemas';
import { Group } from '../../src/db/models/group';
import type { User } from '../../src/db/models/user';
import { basicAuth, buildApiUser, createTestApi, idsOf, parseBody, tokenAuth, type TestApi } from '../fixtures/api-app';

describe('/api/groups/', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  async function groupOf(member: User): Promise<Group> {
    const group = await Group.query(api.knex).insert({ name: `group-${member.id}-${Math.random()}` });
    await api.knex('group_memberships').insert({ group_id: group.id, user_id: member.id });
    return group;
  }

  it('when a non-superuser lists all groups, answers 403 with the reference text', async () => {
    const user = await buildApiUser(api.knex);
    const res = await request(api.app.callback()).get('/api/groups/').set('Authorization', basicAuth(user));
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/json/);
    expect(res.body).toEqual({ detail: 'You are not allowed to access all groups.', code: 'permission_denied' });
  });

  it('when a superuser lists all groups, answers 200 with every group', async () => {
    const admin = await buildApiUser(api.knex, { isSuperuser: true });
    const mine = await groupOf(admin);
    const res = await request(api.app.callback()).get('/api/groups/').set('Authorization', tokenAuth(admin));
    expect(res.status).toBe(200);
    expect(idsOf(res.body)).toContain(String(mine.id));
    expect(idsOf(res.body)).toHaveLength(await Group.query(api.knex).resultSize());
  });

  it('when a member reads the group, answers 200; a non-member 403 with the reference text', async () => {
    const member = await buildApiUser(api.knex);
    const group = await groupOf(member);
    const own = await request(api.app.callback())
      .get(`/api/groups/${group.id}/`)
      .set('Authorization', tokenAuth(member));
    expect(own.body).toEqual({ id: group.id, name: group.name });
    const other = await request(api.app.callback())
      .get(`/api/groups/${group.id}/`)
      .set('Authorization', tokenAuth(await buildApiUser(api.knex)));
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ detail: 'You are not allowed to access this group.' });
  });

  it('when a group is created, answers 201 with it and the creator is a member', async () => {
    const user = await buildApiUser(api.knex);
    const name = `created-${user.id}`;
    const res = await request(api.app.callback())
      .post('/api/groups/')
      .set('Authorization', tokenAuth(user))
      .send({ name });
    expect(res.status).toBe(201);
    const created = parseBody(groupResponse, res.body);
    expect(created.name).toBe(name);
    const read = await request(api.app.callback())
      .get(`/api/groups/${created.id}/`)
      .set('Authorization', tokenAuth(user));
    expect(read.status).toBe(200);
  });

  it('when the name is missing or taken, answers 400 with the reference texts', async () => {
    const user = await buildApiUser(api.knex);
    const missing = await request(api.app.callback())
      .post('/api/groups/')
      .set('Authorization', tokenAuth(user))
      .send({});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ details: { name: ['This field is required.'] } });
    const group = await groupOf(user);
    const taken = await request(api.app.callback())
      .post('/api/groups/')
      .set('Authorization', tokenAuth(user))
      .send({ name: group.name });
    expect(taken.status).toBe(400);
    expect(taken.body).toMatchObject({ details: { name: ['group with this name already exists.'] } });
  });

  it('when a taken name holds a line break or quotes (which db-errors cannot parse), still answers 400', async () => {
    const user = await buildApiUser(api.knex);
    const name = `it's "odd"\r\nname ${user.id}`;
    const first = await request(api.app.callback())
      .post('/api/groups/')
      .set('Authorization', tokenAuth(user))
      .send({ name });
    expect(first.status).toBe(201);
    const taken = await request(api.app.callback())
      .post('/api/groups/')
      .set('Authorization', tokenAuth(user))
      .send({ name });
    expect(taken.status).toBe(400);
    expect(taken.body).toMatchObject({ details: { name: ['group with this name already exists.'] } });
  });

  it.each(['put', 'patch'] as const)(
    'when a member renames with %s to a taken name, answers 400 with the words creation uses',
    async (method) => {
      const member = await buildApiUser(api.knex);
      const group = await groupOf(member);
      const other = await groupOf(member);
      const res = await request(api.app.callback())
        [method](`/api/groups/${group.id}/`)
        .set('Authorization', tokenAuth(member))
        .send({ name: other.name });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        detail: 'name: group with this name already exists.',
        code: 'invalid_input',
        details: { name: ['group with this name already exists.'] },
      });
      expect((await Group.query(api.knex).findById(group.id))?.name).toBe(group.name);
    },
  );

  it('when a PATCH body is JSON null or a list, answers 400 as for any body that is not an object', async () => {
    const member = await buildApiUser(api.knex);
    const group = await groupOf(member);
    const answers = [];
    for (const body of ['null', '[1,2]']) {
      answers.push(
        await request(api.app.callback())
          .patch(`/api/groups/${group.id}/`)
          .set('Authorization', tokenAuth(member))
          .set('Content-Type', 'application/json')
          .send(body),
      );
    }
    for (const res of answers) {
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'invalid_input' });
    }
    expect(answers[0]?.body).toEqual(answers[1]?.body);
  });

  it.each(['put', 'patch'] as const)('when a member renames with %s, answers 200 with the new name', async (method) => {
    const member = await buildApiUser(api.knex);
    const group = await groupOf(member);
    const name = `renamed-${method}-${member.id}`;
    const res = await request(api.app.callback())
      [method](`/api/groups/${group.id}/`)
      .set('Authorization', tokenAuth(member))
      .send({ name });
    expect(res.status).toBe(200);
    expect(parseBody(groupResponse, res.body).name).toBe(name);
  });

  it('when a member deletes the group, answers 204 with an empty body', async () => {
    const member = await buildApiUser(api.knex);
    const group = await groupOf(member);
    const res = await request(api.app.callback())
      .delete(`/api/groups/${group.id}/`)
      .set('Authorization', tokenAuth(member));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await Group.query(api.knex).findById(group.id)).toBeUndefined();
  });

  it('when the id is missing or malformed, answers 404 or 400 with the reference text', async () => {
    const user = await buildApiUser(api.knex);
    const missing = await request(api.app.callback()).get('/api/groups/999999/').set('Authorization', tokenAuth(user));
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ detail: 'Group 999999 not found.' });
    const malformed = await request(api.app.callback()).get('/api/groups/abc/').set('Authorization', tokenAuth(user));
    expect(malformed.status).toBe(400);
    expect(z.object({ detail: z.string() }).parse(malformed.body).detail).toBe('Group abc not found.');
  });
});
