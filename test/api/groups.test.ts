import request from 'supertest';
import { z } from 'zod';
import { groupResponse } from '../../src/api/routes/groups/schemas';
import { Group } from '../../src/db/models/group';
import type { User } from '../../src/db/models/user';
import { basicAuth, buildApiUser, createTestApi, idsOf, parseBody, tokenAuth, type TestApi } from '../fixtures/api-app';
import { buildGroup } from '../fixtures/factories';

describe('/api/groups/', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  const get = (path: string, caller: User) =>
    request(api.app.callback()).get(path).set('Authorization', tokenAuth(caller));

  it('when a non-superuser lists groups, answers its own and the public ones, not the private ones of others', async () => {
    const user = await buildApiUser(api.knex);
    const other = await buildApiUser(api.knex);
    const mine = await buildGroup(api.knex, user);
    const joined = await buildGroup(api.knex, other, { members: [user] });
    const open = await buildGroup(api.knex, other, { public: true });
    const closed = await buildGroup(api.knex, other);
    const res = await request(api.app.callback()).get('/api/groups/').set('Authorization', basicAuth(user));
    expect(res.status).toBe(200);
    const listed = parseBody(z.array(groupResponse), res.body);
    expect(listed.map((g) => g.id)).toEqual(expect.arrayContaining([mine.id, joined.id, open.id]));
    expect(listed.map((g) => g.id)).not.toContain(closed.id);
    expect(listed.every((g) => g.public || g.members.includes(user.id))).toBe(true);
    expect(listed.find((g) => g.id === joined.id)).toEqual({
      id: joined.id,
      name: joined.name,
      owner: other.id,
      public: false,
      members: [other.id, user.id],
    });
  });

  it('when a superuser lists groups, answers every group, private ones of others included', async () => {
    const admin = await buildApiUser(api.knex, { isSuperuser: true });
    const closed = await buildGroup(api.knex, await buildApiUser(api.knex));
    const res = await get('/api/groups/', admin);
    expect(res.status).toBe(200);
    expect(idsOf(res.body)).toContain(String(closed.id));
    expect(idsOf(res.body)).toHaveLength(await Group.query(api.knex).resultSize());
  });

  it('when a member reads a private group, answers 200 with owner and members; a non-member 403 with the reference text', async () => {
    const owner = await buildApiUser(api.knex);
    const member = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner, { members: [member] });
    const own = await get(`/api/groups/${group.id}/`, member);
    expect(own.status).toBe(200);
    expect(own.body).toEqual({
      id: group.id,
      name: group.name,
      owner: owner.id,
      public: false,
      members: [owner.id, member.id],
    });
    const other = await get(`/api/groups/${group.id}/`, await buildApiUser(api.knex));
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ detail: 'You are not allowed to access this group.' });
  });

  it('when anyone reads a public group, answers 200; a superuser reads a private one', async () => {
    const owner = await buildApiUser(api.knex);
    const open = await buildGroup(api.knex, owner, { public: true });
    const res = await get(`/api/groups/${open.id}/`, await buildApiUser(api.knex));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: open.id, public: true, members: [owner.id] });
    const closed = await buildGroup(api.knex, owner);
    const admin = await get(`/api/groups/${closed.id}/`, await buildApiUser(api.knex, { isSuperuser: true }));
    expect(admin.status).toBe(200);
  });

  it('when a group is created, answers 201 with it, private, owned by its creator and first member', async () => {
    const user = await buildApiUser(api.knex);
    const name = `created-${user.id}`;
    const res = await request(api.app.callback())
      .post('/api/groups/')
      .set('Authorization', tokenAuth(user))
      .send({ name });
    expect(res.status).toBe(201);
    const created = parseBody(groupResponse, res.body);
    expect(created).toEqual({ id: created.id, name, owner: user.id, public: false, members: [user.id] });
    const read = await get(`/api/groups/${created.id}/`, user);
    expect(read.status).toBe(200);
  });

  it('when a group is created public, by JSON or by form, answers it public; a JSON string "true" is 400', async () => {
    const user = await buildApiUser(api.knex);
    const post = () => request(api.app.callback()).post('/api/groups/').set('Authorization', tokenAuth(user));
    const json = await post().send({ name: `json-${user.id}`, public: true });
    expect(json.status).toBe(201);
    expect(json.body).toMatchObject({ public: true });
    const form = await post().type('form').send(`name=form-${user.id}&public=True`);
    expect(form.status).toBe(201);
    expect(form.body).toMatchObject({ public: true });
    const text = await post().send({ name: `text-${user.id}`, public: 'true' });
    expect(text.status).toBe(400);
    expect(text.body).toMatchObject({ code: 'invalid_input', detail: expect.stringContaining('public') as unknown });
  });

  it('when the name is missing or taken, answers 400 with the reference texts', async () => {
    const user = await buildApiUser(api.knex);
    const missing = await request(api.app.callback())
      .post('/api/groups/')
      .set('Authorization', tokenAuth(user))
      .send({});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ details: { name: ['This field is required.'] } });
    const group = await buildGroup(api.knex, user);
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
    'when the owner renames with %s to a taken name, answers 400 with the words creation uses',
    async (method) => {
      const owner = await buildApiUser(api.knex);
      const group = await buildGroup(api.knex, owner);
      const other = await buildGroup(api.knex, owner);
      const res = await request(api.app.callback())
        [method](`/api/groups/${group.id}/`)
        .set('Authorization', tokenAuth(owner))
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
    const owner = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner);
    const answers = [];
    for (const body of ['null', '[1,2]']) {
      answers.push(
        await request(api.app.callback())
          .patch(`/api/groups/${group.id}/`)
          .set('Authorization', tokenAuth(owner))
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

  it.each(['put', 'patch'] as const)(
    'when the owner renames with %s, answers 200 with the new name',
    async (method) => {
      const owner = await buildApiUser(api.knex);
      const group = await buildGroup(api.knex, owner);
      const name = `renamed-${method}-${owner.id}`;
      const res = await request(api.app.callback())
        [method](`/api/groups/${group.id}/`)
        .set('Authorization', tokenAuth(owner))
        .send({ name });
      expect(res.status).toBe(200);
      expect(parseBody(groupResponse, res.body)).toMatchObject({ name, owner: owner.id, public: false });
      expect((await Group.query(api.knex).findById(group.id))?.name).toBe(name);
    },
  );

  it('when a member who is not the owner renames or deletes the group, answers 403 and changes nothing', async () => {
    const owner = await buildApiUser(api.knex);
    const member = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner, { members: [member] });
    const as = (req: request.Test) => req.set('Authorization', tokenAuth(member));
    const answers = [
      await as(request(api.app.callback()).put(`/api/groups/${group.id}/`)).send({ name: `put-${member.id}` }),
      await as(request(api.app.callback()).patch(`/api/groups/${group.id}/`)).send({ public: true }),
      await as(request(api.app.callback()).delete(`/api/groups/${group.id}/`)),
    ];
    for (const res of answers) {
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        detail: `Only the owner of group ${group.id} may change it or its members.`,
        code: 'permission_denied',
      });
    }
    expect(await Group.query(api.knex).findById(group.id)).toMatchObject({ name: group.name, public: false });
  });

  it('when a superuser who is not a member renames and deletes a group, answers 200 and 204', async () => {
    const owner = await buildApiUser(api.knex);
    const admin = await buildApiUser(api.knex, { isSuperuser: true });
    const group = await buildGroup(api.knex, owner);
    const renamed = await request(api.app.callback())
      .patch(`/api/groups/${group.id}/`)
      .set('Authorization', tokenAuth(admin))
      .send({ name: `admin-${group.id}` });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: `admin-${group.id}`, owner: owner.id, members: [owner.id] });
    const deleted = await request(api.app.callback())
      .delete(`/api/groups/${group.id}/`)
      .set('Authorization', tokenAuth(admin));
    expect(deleted.status).toBe(204);
    expect(await Group.query(api.knex).findById(group.id)).toBeUndefined();
  });

  it('when the owner makes the group public and hands it to a member, answers 200 with both; a non-member as owner is 400', async () => {
    const owner = await buildApiUser(api.knex);
    const member = await buildApiUser(api.knex);
    const stranger = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner, { members: [member] });
    const patch = (caller: User, body: object) =>
      request(api.app.callback()).patch(`/api/groups/${group.id}/`).set('Authorization', tokenAuth(caller)).send(body);
    const refused = await patch(owner, { owner: stranger.id });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      detail: `owner: User ${stranger.id} is not a member of group ${group.id}: add them first.`,
    });
    const res = await patch(owner, { public: true, owner: member.id.toUpperCase() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ public: true, owner: member.id, members: [owner.id, member.id] });
    const former = await patch(owner, { public: false });
    expect(former.status).toBe(403);
  });

  it('when the owner deletes the group, answers 204 with an empty body', async () => {
    const owner = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner);
    const res = await request(api.app.callback())
      .delete(`/api/groups/${group.id}/`)
      .set('Authorization', tokenAuth(owner));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(await Group.query(api.knex).findById(group.id)).toBeUndefined();
  });

  it('when the id is missing or malformed, answers 404 or 400 with the reference text', async () => {
    const user = await buildApiUser(api.knex);
    const missing = await get('/api/groups/999999/', user);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ detail: 'Group 999999 not found.' });
    const malformed = await get('/api/groups/abc/', user);
    expect(malformed.status).toBe(400);
    expect(z.object({ detail: z.string() }).parse(malformed.body).detail).toBe('Group abc not found.');
  });
});
