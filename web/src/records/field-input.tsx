import { Checkbox, MultiSelect, Select, Textarea, TextInput } from '@mantine/core';
import { fullName } from '../format';
import { RecordPicker } from './record-picker';
import type { FieldView } from './record-types';
import { useUserNames } from './use-module';

export type FormValue = string | boolean | string[];

interface Props {
  field: FieldView;
  value: FormValue;
  onChange: (v: FormValue) => void;
  error?: string;
}

/** The input for one field, chosen by its type from the module description. */
export function FieldInput({ field, value, onChange, error }: Props) {
  const common = {
    label: field.label,
    required: field.mandatory,
    name: field.name,
    error,
    ...(field.masked
      ? { description: 'Masked for you: leave it as it is to keep the current value, or type a new one.' }
      : {}),
  };
  const text = typeof value === 'string' ? value : '';
  switch (field.type) {
    case 'text':
      return (
        <Textarea
          {...common}
          autosize
          minRows={2}
          value={text}
          onChange={(e) => onChange(e.currentTarget.value)}
        />
      );
    case 'boolean':
      return (
        <Checkbox
          label={field.label}
          name={field.name}
          checked={value === true}
          onChange={(e) => onChange(e.currentTarget.checked)}
          mt="lg"
        />
      );
    case 'picklist':
      return (
        <Select
          {...common}
          data={field.picklistValues ?? []}
          value={text || null}
          onChange={(v) => onChange(v ?? '')}
          clearable={!field.mandatory}
          searchable
        />
      );
    case 'multipicklist':
      return (
        <MultiSelect
          {...common}
          data={field.picklistValues ?? []}
          value={Array.isArray(value) ? value : []}
          onChange={onChange}
        />
      );
    case 'owner':
      return <OwnerInput {...{ field, value, onChange, error }} />;
    case 'reference':
      return <ReferenceInput {...{ field, value, onChange, error }} />;
    default: {
      const kind: Record<string, { type?: string; inputMode?: 'decimal' | 'numeric' }> = {
        email: { type: 'email' },
        phone: { type: 'tel' },
        url: { type: 'url' },
        integer: { inputMode: 'numeric' },
        decimal: { inputMode: 'decimal' },
        currency: { inputMode: 'decimal' },
        date: { type: 'date' },
        datetime: { type: 'datetime-local' },
      };
      return (
        <TextInput
          {...common}
          {...kind[field.type]}
          value={text}
          onChange={(e) => onChange(e.currentTarget.value)}
        />
      );
    }
  }
}

function OwnerInput({ field, value, onChange, error }: Props) {
  const { users } = useUserNames();
  return (
    <Select
      label={field.label}
      required={field.mandatory}
      error={error}
      searchable
      data={users.map((u) => ({ value: String(u.id), label: fullName(u) }))}
      value={typeof value === 'string' && value ? value : null}
      onChange={(v) => onChange(v ?? '')}
    />
  );
}

function ReferenceInput({ field, value, onChange, error }: Props) {
  const target = field.refersTo?.[0];
  if (!target) return null;
  return (
    <RecordPicker
      module={target}
      label={field.label}
      required={field.mandatory}
      error={error}
      name={field.name}
      clearable={!field.mandatory}
      placeholder="Type to search"
      value={typeof value === 'string' ? value : ''}
      onChange={(v) => onChange(v)}
    />
  );
}
