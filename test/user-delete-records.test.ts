import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from './harness.js';

describeEachDialect('deleting a user moves their records', (h) => {
  it('transfers ownership on delete, keeps it on restore, and rewrites created-by on permanent delete', async () => {
    const leaver = await h.createUser();
    const receiver = await h.createUser();
    const created = await h.request({
      method: 'POST',
      url: '/api/v1/records/Contacts',
      as: leaver.session,
      payload: { lastname: 'Owned' },
    });
    expectStatus(created, 201);
    const id = created.json().id as number;

    expectStatus(
      await h.request({
        method: 'DELETE',
        url: `/api/v1/users/${leaver.id}?transferTo=${receiver.id}`,
        as: h.admin,
      }),
      200,
    );
    const moved = await h.request({
      method: 'GET',
      url: `/api/v1/records/Contacts/${id}`,
      as: receiver.session,
    });
    expectStatus(moved, 200);
    expect(moved.json().assigned_user_id).toBe(receiver.id);

    expectStatus(
      await h.request({ method: 'POST', url: `/api/v1/users/${leaver.id}/restore`, as: h.admin }),
      200,
    );
    const afterRestore = await h.request({
      method: 'GET',
      url: `/api/v1/records/Contacts/${id}`,
      as: h.admin,
    });
    expect(afterRestore.json().assigned_user_id).toBe(receiver.id);

    expectStatus(
      await h.request({
        method: 'DELETE',
        url: `/api/v1/users/${leaver.id}?transferTo=${receiver.id}&permanent=true`,
        as: h.admin,
      }),
      200,
    );
    const row = await h.ctx.db.kysely
      .selectFrom('crm_entities')
      .select(['created_by', 'owner_id'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ created_by: receiver.id, owner_id: receiver.id });
    expect(
      await h.ctx.db.kysely.selectFrom('users').select('id').where('id', '=', leaver.id).executeTakeFirst(),
    ).toBeUndefined();
  });
});
