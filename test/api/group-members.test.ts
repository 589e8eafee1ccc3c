import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { groupResponse } from '../../src/api/routes/groups/schemas';
import type { User } from '../../src/db/models/user';
import { isGroupMember } from '../../src/db/queries/groups';
import { buildApiUser, createTestApi, parseBody, tokenAuth, type TestApi } from '../fixtures/api-app';
import { buildGroup } from '../fixtures/factories';

describe('/api/groups/{id}/members/, /join/ and /leave/', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await createTestApi();
  });

  afterAll(async () => {
    await api.close();
  });

  const members = (method: 'post' | 'delete', group: { id: number }, caller: User, userIds: unknown) =>
    request(api.app.callback())
      [method](`/api/groups/${group.id}/members/`)
      .set('Authorization', tokenAuth(caller))
      .send({ user_ids: userIds });
  const self = (action: 'join' | 'leave', group: { id: number }, caller: User) =>
    request(api.app.callback()).post(`/api/groups/${group.id}/${action}/`).set('Authorization', tokenAuth(caller));
  const membersIn = (res: request.Response) => parseBody(groupResponse, res.body).members;

  it('when the owner adds users (one twice) and removes one, answers 200 with the members each time', async () => {
    const owner = await buildApiUser(api.knex);
    const [a, b] = [await buildApiUser(api.knex), await buildApiUser(api.knex)];
    const group = await buildGroup(api.knex, owner);
    const added = await members('post', group, owner, [a.id, b.id, a.id]);
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ id: group.id, owner: owner.id });
    expect(new Set(membersIn(added))).toEqual(new Set([owner.id, a.id, b.id]));
    const again = await members('post', group, owner, [a.id]);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(added.body);
    const removed = await members('delete', group, owner, [b.id]);
    expect(removed.status).toBe(200);
    expect(membersIn(removed)).toEqual([owner.id, a.id]);
    expect(await isGroupMember(api.knex, group.id, b.id)).toBe(false);
    expect(await isGroupMember(api.knex, group.id, a.id)).toBe(true);
  });

  it('when an id is no user or not an id, answers 400 naming it and adds no one', async () => {
    const owner = await buildApiUser(api.knex);
    const known = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner);
    const unknown = randomUUID();
    const res = await members('post', group, owner, [known.id, unknown]);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      detail: `user_ids: Users not found: ${unknown}.`,
      code: 'invalid_input',
      details: { user_ids: [`Users not found: ${unknown}.`] },
    });
    expect(await isGroupMember(api.knex, group.id, known.id)).toBe(false);
    const malformed = await members('post', group, owner, ['nobody']);
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({
      code: 'invalid_input',
      detail: expect.stringContaining('nobody') as unknown,
    });
    const missing = await request(api.app.callback())
      .post(`/api/groups/${group.id}/members/`)
      .set('Authorization', tokenAuth(owner))
      .send({});
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ detail: expect.stringContaining('user_ids') as unknown });
  });

  it('when the owner is to be removed, answers 400 saying how to hand the group over, and keeps the owner', async () => {
    const owner = await buildApiUser(api.knex);
    const member = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner, { members: [member] });
    const res = await members('delete', group, owner, [member.id, owner.id]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      detail:
        `user_ids: User ${owner.id} owns group ${group.id} and cannot be removed: ` +
        'hand the group to another member first (PATCH with "owner") or delete it.',
    });
    expect(await isGroupMember(api.knex, group.id, owner.id)).toBe(true);
    expect(await isGroupMember(api.knex, group.id, member.id)).toBe(true);
  });

  it('when a member who is not the owner changes members, answers 403; a stranger to a private group 403 too', async () => {
    const owner = await buildApiUser(api.knex);
    const member = await buildApiUser(api.knex);
    const outsider = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner, { members: [member] });
    const byMember = await members('post', group, member, [outsider.id]);
    expect(byMember.status).toBe(403);
    expect(byMember.body).toMatchObject({
      detail: `Only the owner of group ${group.id} may change it or its members.`,
    });
    const removing = await members('delete', group, member, [owner.id]);
    expect(removing.status).toBe(403);
    const byStranger = await members('post', group, outsider, [outsider.id]);
    expect(byStranger.status).toBe(403);
    expect(byStranger.body).toMatchObject({ detail: 'You are not allowed to access this group.' });
    expect(await isGroupMember(api.knex, group.id, outsider.id)).toBe(false);
  });

  it('when a superuser who is not a member adds and removes members, answers 200', async () => {
    const owner = await buildApiUser(api.knex);
    const admin = await buildApiUser(api.knex, { isSuperuser: true });
    const user = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner);
    expect(membersIn(await members('post', group, admin, [user.id]))).toEqual([owner.id, user.id]);
    expect(membersIn(await members('delete', group, admin, [user.id]))).toEqual([owner.id]);
  });

  it('when anyone joins a public group, twice, then leaves it, answers 200 with the members each time', async () => {
    const owner = await buildApiUser(api.knex);
    const user = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner, { public: true });
    const joined = await self('join', group, user);
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ id: group.id, public: true, members: [owner.id, user.id] });
    const again = await self('join', group, user);
    expect(again.status).toBe(200);
    expect(membersIn(again)).toEqual([owner.id, user.id]);
    const mine = await request(api.app.callback()).get('/api/users/groups/').set('Authorization', tokenAuth(user));
    expect(mine.body).toEqual([joined.body]);
    const left = await self('leave', group, user);
    expect(left.status).toBe(200);
    expect(membersIn(left)).toEqual([owner.id]);
    expect(await isGroupMember(api.knex, group.id, user.id)).toBe(false);
  });

  it('when a stranger joins a private group, answers 403 saying it is private; a superuser may join it', async () => {
    const owner = await buildApiUser(api.knex);
    const stranger = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner);
    const res = await self('join', group, stranger);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      detail: `Group ${group.id} is private: only its owner can add members.`,
      code: 'permission_denied',
    });
    expect(await isGroupMember(api.knex, group.id, stranger.id)).toBe(false);
    const admin = await buildApiUser(api.knex, { isSuperuser: true });
    expect((await self('join', group, admin)).status).toBe(200);
    expect(await isGroupMember(api.knex, group.id, admin.id)).toBe(true);
  });

  it('when a member leaves a private group, answers 200 and can no longer read it', async () => {
    const owner = await buildApiUser(api.knex);
    const member = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner, { members: [member] });
    const left = await self('leave', group, member);
    expect(left.status).toBe(200);
    expect(membersIn(left)).toEqual([owner.id]);
    const read = await request(api.app.callback())
      .get(`/api/groups/${group.id}/`)
      .set('Authorization', tokenAuth(member));
    expect(read.status).toBe(403);
    expect((await self('leave', group, member)).status).toBe(403);
  });

  it('when the owner leaves, answers 400 saying why; after handing the group over, the former owner may leave', async () => {
    const owner = await buildApiUser(api.knex);
    const member = await buildApiUser(api.knex);
    const group = await buildGroup(api.knex, owner, { members: [member] });
    const refused = await self('leave', group, owner);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      detail:
        `You own group ${group.id}, so you cannot leave it: ` +
        'hand the group to another member first (PATCH with "owner") or delete it.',
      code: 'invalid_input',
    });
    expect(await isGroupMember(api.knex, group.id, owner.id)).toBe(true);
    const handed = await request(api.app.callback())
      .patch(`/api/groups/${group.id}/`)
      .set('Authorization', tokenAuth(owner))
      .send({ owner: member.id });
    expect(handed.status).toBe(200);
    const left = await self('leave', group, owner);
    expect(left.status).toBe(200);
    expect(left.body).toMatchObject({ owner: member.id, members: [member.id] });
  });

  it('when the group does not exist, every membership route answers 404', async () => {
    const user = await buildApiUser(api.knex);
    const ghost = { id: 999_999 };
    expect((await self('join', ghost, user)).status).toBe(404);
    expect((await self('leave', ghost, user)).status).toBe(404);
    expect((await members('post', ghost, user, [user.id])).status).toBe(404);
    expect((await members('delete', ghost, user, [user.id])).status).toBe(404);
  });
});
