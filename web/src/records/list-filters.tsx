import { Badge, Button, CloseButton, Group, Select, TextInput } from '@mantine/core';
import { IconFilterPlus } from '@tabler/icons-react';
import { type FormEvent, useState } from 'react';
import type { ListFilter } from './list-state';
import type { FieldView, ModuleDescription } from './record-types';

const TEXT = new Set(['string', 'text', 'email', 'phone', 'url']);
const ORDERED = new Set(['integer', 'decimal', 'currency', 'date', 'datetime']);

const OP_LABELS: Record<string, string> = {
  contains: 'contains',
  startswith: 'starts with',
  eq: 'is',
  ne: 'is not',
  lt: 'less than',
  gt: 'more than',
  lte: 'at most',
  gte: 'at least',
  'empty:true': 'is empty',
  'empty:false': 'is not empty',
};
const DATE_OP_LABELS: Record<string, string> = {
  lt: 'before',
  gt: 'after',
  lte: 'on or before',
  gte: 'on or after',
};

/** The operators that make sense for a field's type (`empty:true` is an operator with its value). */
export function opsFor(field: FieldView): string[] {
  if (TEXT.has(field.type)) return ['contains', 'eq', 'ne', 'startswith', 'empty:true', 'empty:false'];
  if (field.type === 'picklist' || field.type === 'multipicklist')
    return ['eq', 'ne', 'empty:true', 'empty:false'];
  if (ORDERED.has(field.type)) return ['eq', 'lt', 'gt', 'lte', 'gte', 'empty:true', 'empty:false'];
  if (field.type === 'boolean') return ['eq'];
  return ['empty:true', 'empty:false'];
}

function opLabel(field: FieldView | undefined, op: string): string {
  if (field && (field.type === 'date' || field.type === 'datetime') && DATE_OP_LABELS[op])
    return DATE_OP_LABELS[op];
  return OP_LABELS[op] ?? op;
}

/** A filter in words: "Lead Source is Cold Call", "Email is empty". */
export function describeFilter(meta: ModuleDescription, f: ListFilter): string {
  const field = meta.fields.find((x) => x.name === f.field);
  const name = field?.label ?? f.field;
  if (f.op === 'empty') return `${name} ${f.value === 'true' ? 'is empty' : 'is not empty'}`;
  const value = field?.type === 'boolean' ? (f.value === 'true' ? 'Yes' : 'No') : f.value;
  return `${name} ${opLabel(field, f.op)} ${value}`;
}

/** Fields a person may filter on here (owner has its own control). */
export function filterableFields(meta: ModuleDescription): FieldView[] {
  return meta.fields.filter((f) => f.name !== 'assigned_user_id' && f.type !== 'owner');
}

/** The active filters as removable chips, then a builder: field, operator, value, Add filter. */
export function ListFilters({
  meta,
  filters,
  onChange,
}: {
  meta: ModuleDescription;
  filters: ListFilter[];
  onChange: (filters: ListFilter[]) => void;
}) {
  const fields = filterableFields(meta);
  const [fieldName, setFieldName] = useState<string | null>(null);
  const field = fields.find((f) => f.name === fieldName);
  const ops = field ? opsFor(field) : [];
  const [op, setOp] = useState<string | null>(null);
  const [value, setValue] = useState('');
  const currentOp = op && ops.includes(op) ? op : ops[0];
  const needsValue = currentOp !== undefined && !currentOp.startsWith('empty:');

  const add = (e: FormEvent) => {
    e.preventDefault();
    if (!field || !currentOp) return;
    const [o, fixed] = currentOp.split(':') as [string, string | undefined];
    const v = fixed ?? value.trim();
    if (needsValue && v === '') return;
    const known = filters.some((f) => f.field === field.name && f.op === o && f.value === v);
    if (!known) onChange([...filters, { field: field.name, op: o, value: v }]);
    setFieldName(null);
    setOp(null);
    setValue('');
  };

  return (
    <>
      <Group component="form" onSubmit={add} align="flex-end" gap="xs" wrap="wrap" aria-label="Add a filter">
        <Select
          label="Filter by"
          placeholder="Choose a field"
          searchable
          clearable
          data={fields.map((f) => ({ value: f.name, label: f.label }))}
          value={fieldName}
          onChange={(v) => {
            setFieldName(v);
            setOp(null);
            setValue('');
          }}
          w={200}
        />
        {field && (
          <Select
            label="Condition"
            data={ops.map((o) => ({ value: o, label: opLabel(field, o) }))}
            value={currentOp ?? null}
            onChange={(v) => setOp(v)}
            allowDeselect={false}
            w={150}
          />
        )}
        {field && needsValue && <ValueInput field={field} value={value} onChange={setValue} />}
        {field && (
          <Button type="submit" variant="light" leftSection={<IconFilterPlus size={16} aria-hidden />}>
            Add filter
          </Button>
        )}
      </Group>
      {filters.length > 0 && (
        <Group gap="xs" mt="xs" aria-label="Active filters" role="list">
          {filters.map((f, i) => {
            const words = describeFilter(meta, f);
            return (
              <Badge
                key={`${f.field}:${f.op}:${f.value}`}
                role="listitem"
                variant="light"
                size="lg"
                tt="none"
                rightSection={
                  <CloseButton
                    size="xs"
                    aria-label={`Remove filter ${words}`}
                    onClick={() => onChange(filters.filter((_, j) => j !== i))}
                  />
                }
              >
                {words}
              </Badge>
            );
          })}
          <Button variant="subtle" size="compact-sm" onClick={() => onChange([])}>
            Clear filters
          </Button>
        </Group>
      )}
    </>
  );
}

function ValueInput({
  field,
  value,
  onChange,
}: {
  field: FieldView;
  value: string;
  onChange: (v: string) => void;
}) {
  if (field.picklistValues?.length) {
    return (
      <Select
        label={field.label}
        placeholder="Choose"
        searchable
        data={field.picklistValues}
        value={value || null}
        onChange={(v) => onChange(v ?? '')}
        w={200}
      />
    );
  }
  if (field.type === 'boolean') {
    return (
      <Select
        label={field.label}
        data={[
          { value: 'true', label: 'Yes' },
          { value: 'false', label: 'No' },
        ]}
        value={value || null}
        onChange={(v) => onChange(v ?? '')}
        w={120}
      />
    );
  }
  const type =
    field.type === 'date' || field.type === 'datetime' ? 'date' : ORDERED.has(field.type) ? 'number' : 'text';
  return (
    <TextInput
      label={field.label}
      type={type}
      value={value}
      onChange={(e) => onChange(e.currentTarget.value)}
      w={200}
    />
  );
}
