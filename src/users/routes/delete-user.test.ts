import { afterEach, expect, it } from 'vitest';
import { ADMIN_PASSWORD, describeEachDialect, errorCode, expectStatus } from '../../../test/harness.js';
import { CLI_ACTOR } from '../../audit/audit.repository.js';
import { withUnitOfWork } from '../../db/unit-of-work.js';
import { findUserById } from '../user.repository.js';
import { deleteUser } from '../user-deletion.service.js';

describeEachDialect('deleting users', (h) => {
  const del = (id: number, query = '', as = h.admin) =>
    h.request({ method: 'DELETE', url: `/api/v1/users/${id}${query}`, as });
  const calls: Array<[string, number, number]> = [];
  afterEach(() => {
    const real = h.ctx.userRemovalHooks.filter((hook) => hook.feature !== 'test');
    h.ctx.userRemovalHooks.splice(0, h.ctx.userRemovalHooks.length, ...real);
    calls.length = 0;
  });
  const registerHooks = () => {
    h.ctx.userRemovalHooks.push({
      feature: 'test',
      async deleted(_uow, r) {
        calls.push(['deleted', r.userId, r.receiverId]);
        return 3;
      },
      async purged(_uow, r) {
        calls.push(['purged', r.userId, r.receiverId]);
      },
    });
  };

  it('moves ownership to an active user in one transaction, ends sessions, destroys secrets, hides the user; audited', async () => {
    registerHooks();
    const u = await h.createUser();
    const receiver = await h.createUser();
    const res = await del(u.id, `?transferTo=${receiver.id}`);
    expectStatus(res, 200);
    expect(res.json()).toEqual({
      deleted: { id: u.id, username: u.username },
      transferredTo: { id: receiver.id, username: receiver.username },
      recordsTransferred: 3,
      permanent: false,
    });
    expect(calls).toEqual([['deleted', u.id, receiver.id]]);
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: u.session }), 401);
    // admins still open a deleted user (to restore or purge them); to everyone else they are gone
    const opened = await h.request({ method: 'GET', url: `/api/v1/users/${u.id}`, as: h.admin });
    expectStatus(opened, 200);
    expect(opened.json()).toMatchObject({ id: u.id, deletedAt: expect.any(String) });
    expectStatus(await h.request({ method: 'GET', url: `/api/v1/users/${u.id}`, as: receiver.session }), 404);
    const list = await h.request({ method: 'GET', url: `/api/v1/users?search=${u.username}`, as: h.admin });
    expect(list.json().items).toEqual([]);
    const deleted = await h.request({
      method: 'GET',
      url: `/api/v1/users?deleted=true&search=${u.username}`,
      as: h.admin,
    });
    expect(deleted.json().items[0]).toMatchObject({
      id: u.id,
      status: 'Inactive',
      deletedAt: expect.any(String),
    });
    await expect(h.login(u.username, u.password)).rejects.toThrow(/401/);
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.deleted&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    expect(audit.json().items[0].details).toMatchObject({ transferTo: receiver.id, recordsTransferred: 3 });
  });

  it('deleted=all lists deleted and other users together, for admins only', async () => {
    const gone = await h.createUser({ lastName: 'Allgone' });
    const here = await h.createUser({ lastName: 'Allhere' });
    expectStatus(await del(gone.id, `?transferTo=${here.id}`), 200);
    const res = await h.request({ method: 'GET', url: '/api/v1/users?deleted=all&search=all', as: h.admin });
    expectStatus(res, 200);
    const items = res.json().items as Array<{ id: number; deletedAt: string | null }>;
    expect(items.find((u) => u.id === gone.id)?.deletedAt).toEqual(expect.any(String));
    expect(items.find((u) => u.id === here.id)?.deletedAt).toBeNull();
    const denied = await h.request({ method: 'GET', url: '/api/v1/users?deleted=all', as: here.session });
    expectStatus(denied, 403);
  });

  it('a deleted user keeps their username reserved', async () => {
    const u = await h.createUser();
    const receiver = await h.createUser();
    expectStatus(await del(u.id, `?transferTo=${receiver.id}`), 200);
    const create = await h.request({
      method: 'POST',
      url: '/api/v1/users',
      as: h.admin,
      payload: {
        username: u.username,
        password: 'a-long-enough-password',
        lastName: 'X',
        email: 'x@example.com',
      },
    });
    expectStatus(create, 409);
    expect(errorCode(create)).toBe('USERNAME_TAKEN');
    const rename = await h.request({
      method: 'PATCH',
      url: `/api/v1/users/${receiver.id}`,
      as: h.admin,
      payload: { username: u.username.toUpperCase() },
    });
    expectStatus(rename, 409);
  });

  it('a failing transfer rolls everything back', async () => {
    h.ctx.userRemovalHooks.push({
      feature: 'test',
      async deleted() {
        throw new Error('records could not move');
      },
    });
    const u = await h.createUser();
    const receiver = await h.createUser();
    expectStatus(await del(u.id, `?transferTo=${receiver.id}`), 500);
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: u.session }), 200);
    expectStatus(await h.request({ method: 'GET', url: `/api/v1/users/${u.id}`, as: h.admin }), 200);
  });

  it('refuses without a receiver, or with one that is inactive, deleted, unknown or the user', async () => {
    const u = await h.createUser();
    const missing = await del(u.id);
    expectStatus(missing, 400);
    expect(errorCode(missing)).toBe('TRANSFER_TARGET_REQUIRED');
    const inactive = await h.createUser();
    await h.request({
      method: 'PATCH',
      url: `/api/v1/users/${inactive.id}`,
      as: h.admin,
      payload: { status: 'Inactive' },
    });
    const gone = await h.createUser();
    expectStatus(await del(gone.id, `?transferTo=${h.admin.userId}`), 200);
    for (const bad of [inactive.id, gone.id, 999999, u.id]) {
      const res = await del(u.id, `?transferTo=${bad}`);
      expectStatus(res, 400);
      expect(errorCode(res)).toBe('TRANSFER_TARGET_INVALID');
    }
    expectStatus(await del(u.id, '?transferTo=abc'), 400);
    expectStatus(await h.request({ method: 'GET', url: '/api/v1/me', as: u.session }), 200);
  });

  it('an admin cannot delete themselves; the owner cannot be deleted; only the owner deletes admins; non-admins get 403', async () => {
    const a = await h.createUser({ isAdmin: true });
    const b = await h.createUser({ isAdmin: true });
    const plain = await h.createUser();
    const self = await del(a.id, `?transferTo=${plain.id}`, a.session);
    expectStatus(self, 409);
    expect(errorCode(self)).toBe('CANNOT_DELETE_SELF');
    const owner = await del(h.admin.userId, `?transferTo=${plain.id}`, a.session);
    expect(errorCode(owner)).toBe('CANNOT_DELETE_OWNER');
    expectStatus(await del(b.id, `?transferTo=${plain.id}`, a.session), 403);
    const nonAdmin = await del(a.id, `?transferTo=${plain.id}`, plain.session);
    expectStatus(nonAdmin, 403);
    expect(errorCode(nonAdmin)).toBe('PERMISSION_DENIED');
    expectStatus(await del(b.id, `?transferTo=${plain.id}`), 200);
  });

  it('the last active administrator cannot be deleted', async () => {
    const last = await h.createUser({ isAdmin: true });
    const receiver = await h.createUser();
    const db = h.ctx.db.kysely;
    const owner = (await findUserById(db, h.admin.userId))!;
    const outcome = await withUnitOfWork(h.ctx, CLI_ACTOR, async (uow) => {
      // in this transaction only: nobody else is an admin any more, so `last` is the last one
      await uow.trx.updateTable('users').set({ is_admin: 0 }).where('id', '!=', last.id).execute();
      await deleteUser(h.ctx, uow, owner, {
        targetId: last.id,
        transferToId: receiver.id,
        permanent: false,
      });
      throw Object.assign(new Error('roll back'), { code: 'DELETED' });
    }).catch((err: { code?: string }) => err.code);
    expect(outcome).toBe('LAST_ADMIN');
    expect((await findUserById(db, owner.id))!.isAdmin).toBe(true);
  });

  it('restore brings the user back without moving records back', async () => {
    registerHooks();
    const u = await h.createUser();
    const receiver = await h.createUser();
    expectStatus(await del(u.id, `?transferTo=${receiver.id}`), 200);
    calls.length = 0;
    const res = await h.request({ method: 'POST', url: `/api/v1/users/${u.id}/restore`, as: h.admin });
    expectStatus(res, 200);
    expect(res.json()).toMatchObject({ id: u.id, status: 'Active', deletedAt: null });
    expect(calls).toEqual([]);
    await h.login(u.username, u.password);
    const again = await h.request({ method: 'POST', url: `/api/v1/users/${u.id}/restore`, as: h.admin });
    expectStatus(again, 409);
    expect(errorCode(again)).toBe('USER_NOT_DELETED');
  });

  it('permanent delete removes the row, rewrites references to the receiver and frees the username', async () => {
    const u = await h.createUser({ isAdmin: true });
    const receiver = await h.createUser();
    const db = h.ctx.db.kysely;
    await db
      .updateTable('setup_checklist')
      .set({ updated_by_user_id: u.id })
      .where('step', '=', 'configure')
      .execute();
    const res = await del(u.id, `?transferTo=${receiver.id}&permanent=true`);
    expectStatus(res, 200);
    expect(res.json().permanent).toBe(true);
    expect(await findUserById(db, u.id)).toBeUndefined();
    const step = await db
      .selectFrom('setup_checklist')
      .selectAll()
      .where('step', '=', 'configure')
      .executeTakeFirstOrThrow();
    expect(step.updated_by_user_id).toBe(receiver.id);
    const reuse = await h.request({
      method: 'POST',
      url: '/api/v1/users',
      as: h.admin,
      payload: {
        username: u.username,
        password: 'a-long-enough-password',
        lastName: 'X',
        email: 'x@example.com',
      },
    });
    expectStatus(reuse, 201);
    const audit = await h.request({
      method: 'GET',
      url: `/api/v1/audit?action=user.deleted_permanently&targetType=user&targetId=${u.id}`,
      as: h.admin,
    });
    expect(audit.json().items[0].details.username).toBe(u.username);
  });

  it('a deleted user can be deleted permanently later; the receiver defaults to the first one', async () => {
    const u = await h.createUser();
    const receiver = await h.createUser();
    expectStatus(await del(u.id, `?transferTo=${receiver.id}`), 200);
    const res = await del(u.id, '?permanent=true');
    expectStatus(res, 200);
    expect(res.json().transferredTo.id).toBe(receiver.id);
    expectStatus(await del(u.id, '?permanent=true'), 404);
    expect(h.admin).toBeDefined();
    expect(ADMIN_PASSWORD).toBeTruthy();
  });

  it('deleting is refused while logged in as another user', async () => {
    const owner = await h.login('admin', ADMIN_PASSWORD);
    const a = await h.createUser({ isAdmin: true });
    const victim = await h.createUser();
    expectStatus(
      await h.request({ method: 'POST', url: `/api/v1/users/${a.id}/impersonate`, as: owner }),
      200,
    );
    const res = await del(victim.id, `?transferTo=${h.admin.userId}`, owner);
    expectStatus(res, 403);
    expect(errorCode(res)).toBe('NOT_WHILE_IMPERSONATING');
  });
});
