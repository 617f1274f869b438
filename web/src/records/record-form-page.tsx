import { Alert, Button, Card, SimpleGrid, Stack, Text } from '@mantine/core';
import { type FormEvent, useRef, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { useApi } from '../api/use-api';
import { useSubmit } from '../api/use-submit';
import { ErrorAlert } from '../components/error-alert';
import { FormActions } from '../components/form-actions';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { useMe, useSession } from '../session/session-context';
import { FieldInput, type FormValue } from './field-input';
import {
  type EditLine,
  editLinesOf,
  LineItemsEditor,
  lineItemsInput,
  lineProblems,
  type StoredLine,
} from './line-items-editor';
import { type FieldView, type ModuleDescription, type RestRecord, SYSTEM_FIELDS } from './record-types';
import { useModule } from './use-module';

/** Create (no id) or edit a record; the form is generated from the module's fields. */
export function RecordFormPage() {
  const { module = '', id } = useParams();
  const described = useModule(module);
  const record = useApi<RestRecord>(id ? `records/${encodeURIComponent(module)}/${Number(id) || 0}` : null);
  const meta = described.data;
  const ready = meta && (!id || record.data);
  return (
    <>
      <PageHeader
        title={
          id ? `Edit ${record.data?.label || meta?.singular || ''}` : `New ${meta?.singular ?? 'record'}`
        }
        crumbs={[
          { label: 'Records', to: '/records' },
          { label: meta?.label ?? module, to: `/records/${module}` },
          { label: id ? 'Edit' : 'New' },
        ]}
      />
      <ErrorAlert error={described.error ?? record.error} title="This form cannot be opened" />
      {!ready && !described.error && !record.error && <SectionLoader label="Loading the form" />}
      {ready && <RecordForm key={record.data?.version ?? 'new'} meta={meta} record={record.data} />}
    </>
  );
}

function initialValue(f: FieldView, v: unknown, myId: number): FormValue {
  if (f.type === 'boolean') return v === true || v === 1 || v === '1' || (v == null && f.default === 'yes');
  if (f.type === 'multipicklist') return Array.isArray(v) ? v.map(String) : [];
  if (v === null || v === undefined) {
    if (f.type === 'owner') return String(myId);
    return f.default !== undefined && f.type !== 'boolean' ? String(f.default) : '';
  }
  if (f.type === 'datetime') return String(v).slice(0, 16);
  return String(v);
}

function toApiValue(f: FieldView, v: FormValue): unknown {
  if (typeof v === 'boolean' || Array.isArray(v)) return v;
  if (v === '') return null;
  if (['integer', 'decimal', 'currency', 'reference', 'owner'].includes(f.type)) return Number(v);
  if (f.type === 'datetime') return new Date(v).toISOString();
  return v;
}

function RecordForm({ meta, record: opened }: { meta: ModuleDescription; record?: RestRecord }) {
  const me = useMe();
  // the version the edits apply to: the record as opened, or as reloaded after a save conflict
  const [record, setRecord] = useState(opened);
  const [reloaded, setReloaded] = useState(false);
  const topRef = useRef<HTMLDivElement>(null);
  const { api } = useSession();
  const navigate = useNavigate();
  // "Add related" opens a new record with its link preset: /records/Contacts/new?account_id=12
  const [preset] = useSearchParams();
  const fields = meta.fields.filter((f) => f.editable && !SYSTEM_FIELDS.has(f.name));
  const [values, setValues] = useState<Record<string, FormValue>>(() =>
    Object.fromEntries(
      fields.map((f) => [
        f.name,
        initialValue(f, record ? record[f.name] : (preset.get(f.name) ?? undefined), me.user.id),
      ]),
    ),
  );
  const [lines, setLines] = useState<EditLine[]>(() =>
    editLinesOf(record?.lineItems as StoredLine[] | undefined),
  );
  const [lineError, setLineError] = useState<string[]>([]);
  const [missing, setMissing] = useState<Set<string>>(new Set());
  const {
    submit: save,
    busy,
    error,
    clearError,
  } = useSubmit(
    (body: Record<string, unknown>) =>
      record
        ? api.patch<RestRecord>(`records/${meta.name}/${record.id}`, { ...body, version: record.version })
        : api.post<RestRecord>(`records/${meta.name}`, body),
    {
      success: (saved) => `${saved.label || meta.singular} was saved.`,
      onDone: (saved) => navigate(`/records/${meta.name}/${saved.id}`),
      keepBusy: true,
    },
  );

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const empty = fields.filter(
      (f) => f.mandatory && f.type !== 'boolean' && !String(values[f.name] ?? '').trim(),
    );
    setMissing(new Set(empty.map((f) => f.name)));
    if (empty.length) {
      document.querySelector<HTMLElement>(`[name="${empty[0]!.name}"]`)?.focus();
      return;
    }
    const problems = meta.hasLineItems ? lineProblems(lines) : [];
    setLineError(problems);
    if (problems.length) return;
    const body: Record<string, unknown> = {};
    for (const f of fields) {
      const v = values[f.name];
      if (v === undefined) continue;
      const before = record ? initialValue(f, record[f.name], me.user.id) : undefined;
      if (record && JSON.stringify(before) === JSON.stringify(v)) continue;
      body[f.name] = toApiValue(f, v);
    }
    if (meta.hasLineItems) {
      const items = lineItemsInput(lines);
      const before = lineItemsInput(editLinesOf(record?.lineItems as StoredLine[] | undefined));
      if (!record || JSON.stringify(items) !== JSON.stringify(before)) body.lineItems = items;
    }
    setReloaded(false);
    // on failure the message sits above a long form: bring it into view
    if (!(await save(body))) requestAnimationFrame(() => topRef.current?.scrollIntoView({ block: 'start' }));
  };

  /** After a conflict: take the latest version, and put the user's own changes back over it. */
  const reloadKeepingEdits = async () => {
    if (!record) return;
    const latest = await api.get<RestRecord>(`records/${meta.name}/${record.id}`);
    setValues((current) => {
      const next: Record<string, FormValue> = {};
      for (const f of fields) {
        const mine = current[f.name] ?? '';
        const edited = JSON.stringify(mine) !== JSON.stringify(initialValue(f, record[f.name], me.user.id));
        next[f.name] = edited ? mine : initialValue(f, latest[f.name], me.user.id);
      }
      return next;
    });
    if (meta.hasLineItems) {
      const before = lineItemsInput(editLinesOf(record.lineItems as StoredLine[] | undefined));
      if (JSON.stringify(lineItemsInput(lines)) === JSON.stringify(before))
        setLines(editLinesOf(latest.lineItems as StoredLine[] | undefined));
    }
    setRecord(latest);
    clearError();
    setReloaded(true);
  };
  const conflict = error?.code === 'VERSION_CONFLICT';

  return (
    <Card withBorder padding="lg" maw={960} ref={topRef} style={{ scrollMarginTop: 72 }}>
      <form onSubmit={submit} noValidate>
        <Stack>
          {conflict && <ConflictAlert onReload={reloadKeepingEdits} />}
          {!conflict && <ErrorAlert error={error} title="The record was not saved" />}
          {reloaded && (
            <Alert color="blue" variant="light" role="status" title="Reloaded with your edits kept">
              The form now shows the latest version with your changes on top. Check them and save again.
            </Alert>
          )}
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {fields.map((f) => (
              <FieldInput
                key={f.name}
                field={f}
                value={values[f.name] ?? ''}
                error={
                  missing.has(f.name) && !String(values[f.name] ?? '').trim()
                    ? `${f.label} is required.`
                    : undefined
                }
                onChange={(v) => setValues((prev) => ({ ...prev, [f.name]: v }))}
              />
            ))}
          </SimpleGrid>
          {meta.hasLineItems && <LineItemsEditor lines={lines} onChange={setLines} values={values} />}
          {lineError.length > 0 && (
            <Alert color="red" role="alert" title="Check the line items">
              {lineError.map((p) => (
                <div key={p}>{p}</div>
              ))}
            </Alert>
          )}
          <FormActions onCancel={() => navigate(-1)} busy={busy}>
            Save
          </FormActions>
        </Stack>
      </form>
    </Card>
  );
}

/** A save conflict, at the top of the form, with the way out that keeps the user's work. */
function ConflictAlert({ onReload }: { onReload: () => Promise<void> }) {
  // on success the alert goes (the conflict is cleared), so it stays busy until then
  const { submit: reload, busy, error: failed } = useSubmit(onReload, { keepBusy: true });
  return (
    <Alert color="orange" variant="light" role="alert" title="Someone else changed this record">
      <Text size="sm">
        It was saved by someone else after you opened it, so your changes were not saved. Reload it to see
        their version with your edits kept on top, then save again.
      </Text>
      <Button mt="sm" size="sm" loading={busy} onClick={() => void reload()}>
        Reload and keep my edits
      </Button>
      <ErrorAlert error={failed} title="The record could not be reloaded" />
    </Alert>
  );
}
