import { Alert, Button, Card, Group, SimpleGrid, Stack } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { type FormEvent, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import type { ApiError } from '../api/api-client';
import { asApiError, useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
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

function RecordForm({ meta, record }: { meta: ModuleDescription; record?: RestRecord }) {
  const me = useMe();
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

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
    setBusy(true);
    setError(null);
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
    try {
      const saved = record
        ? await api.patch<RestRecord>(`records/${meta.name}/${record.id}`, {
            ...body,
            version: record.version,
          })
        : await api.post<RestRecord>(`records/${meta.name}`, body);
      notifications.show({ color: 'green', message: `${saved.label || meta.singular} was saved.` });
      navigate(`/records/${meta.name}/${saved.id}`);
    } catch (err) {
      setError(asApiError(err));
      setBusy(false);
    }
  };

  return (
    <Card withBorder padding="lg" maw={960}>
      <form onSubmit={submit} noValidate>
        <Stack>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {fields.map((f) => (
              <FieldInput
                key={f.name}
                field={f}
                value={values[f.name] ?? ''}
                error={missing.has(f.name) ? `${f.label} is required.` : undefined}
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
          <ErrorAlert error={error} title="The record was not saved" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => navigate(-1)}>
              Cancel
            </Button>
            <Button type="submit" loading={busy}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
