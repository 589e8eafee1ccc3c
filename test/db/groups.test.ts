import type { Knex } from 'knex';
import { Group } from '../../src/db/models/group';
import { User } from '../../src/db/models/user';
import { isGroupMember, removeGroupMembers, updateGroup } from '../../src/db/queries/groups';
import { violatedConstraint } from '../../src/db/constraint-errors';
import { buildGroup, buildUser } from '../fixtures/factories';
import { createTestKnex } from '../support/db';

describe('groups and their owners', () => {
  let knex: Knex;

  beforeAll(() => {
    knex = createTestKnex();
  });

  afterAll(async () => {
    await knex.destroy();
  });

  it("when the owner's membership is removed, the owner-is-member key refuses it", async () => {
    const owner = await buildUser(knex);
    const group = await buildGroup(knex, owner);
    const removal = removeGroupMembers(knex, group.id, [owner.id]);
    await expect(removal).rejects.toThrow(/groups_owner_is_member/);
    expect(violatedConstraint(await removal.catch((err: unknown) => err))).toBe('foreignKey');
    expect(await isGroupMember(knex, group.id, owner.id)).toBe(true);
  });

  it('when a non-member is made owner, the owner-is-member key refuses it', async () => {
    const owner = await buildUser(knex);
    const group = await buildGroup(knex, owner);
    const stranger = await buildUser(knex);
    await expect(updateGroup(knex, group.id, { ownerId: stranger.id })).rejects.toThrow(/groups_owner_is_member/);
    expect((await Group.query(knex).findById(group.id))?.ownerId).toBe(owner.id);
  });

  it("when the owner's account is deleted, the group stays, without owner, with its other members", async () => {
    const owner = await buildUser(knex);
    const member = await buildUser(knex);
    const group = await buildGroup(knex, owner, { members: [member] });
    await User.query(knex).deleteById(owner.id);
    expect(await Group.query(knex).findById(group.id)).toMatchObject({ ownerId: null });
    expect(await isGroupMember(knex, group.id, member.id)).toBe(true);
  });

  it('when a group is deleted, its memberships go with it', async () => {
    const owner = await buildUser(knex);
    const group = await buildGroup(knex, owner);
    await Group.query(knex).deleteById(group.id);
    expect(await isGroupMember(knex, group.id, owner.id)).toBe(false);
  });
});
