import { expect, it } from 'vitest';
import { describeEachDialect, expectStatus } from '../../test/harness.js';
import { transferRecordOwnership } from './record-ownership.js';

describeEachDialect('record ownership transfer', (h) => {
  it('moves every record of one user to another and bumps their versions', async () => {
    const from = await h.createUser();
    const to = await h.createUser();
    const ids: number[] = [];
    for (const lastname of ['a', 'b']) {
      const res = await h.request({
        method: 'POST',
        url: '/api/v1/records/Contacts',
        as: h.admin,
        payload: { lastname, assigned_user_id: from.id },
      });
      expectStatus(res, 201);
      ids.push(res.json().id);
    }
    const moved = await h.ctx.db.kysely
      .transaction()
      .execute((trx) => transferRecordOwnership(trx, from.id, to.id, h.clock.now()));
    expect(moved).toBe(2);
    for (const id of ids) {
      const rec = (
        await h.request({ method: 'GET', url: `/api/v1/records/Contacts/${id}`, as: h.admin })
      ).json();
      expect(rec).toMatchObject({ assigned_user_id: to.id, version: 2 });
    }
    expect(
      await h.ctx.db.kysely.transaction().execute((trx) => transferRecordOwnership(trx, from.id, to.id, 0)),
    ).toBe(0);
  });
});
