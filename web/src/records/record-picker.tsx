import { Select, type SelectProps } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useEffect, useMemo, useState } from 'react';
import { useApi } from '../api/use-api';
import type { RecordPage, RestRecord } from './record-types';
import { useReferenceLabel } from './reference-labels';

/**
 * Picks one record of `module` by searching the server (`q=`: name, number, email, phone…), so any record the
 * user may see can be picked however old it is; the current choice shows its label even when it is not in
 * the latest results.
 */
export function RecordPicker({
  module,
  value,
  onChange,
  onPick,
  ...props
}: Omit<SelectProps, 'data' | 'value' | 'onChange' | 'searchValue' | 'onSearchChange'> & {
  module: string;
  value: string;
  onChange: (id: string) => void;
  /** the whole record, when one was picked from the results */
  onPick?: (record: RestRecord) => void;
}) {
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const currentLabel = useReferenceLabel(module, Number(value) || 0);
  const label = value ? (currentLabel ?? (currentLabel === null ? `#${value}` : '')) : '';
  // while the input shows the chosen record's label, it is not a search
  const query = debounced && debounced !== label ? debounced : '';
  const results = useApi<RecordPage>(
    `records/${encodeURIComponent(module)}?limit=20&sort=-modifiedtime${query ? `&q=${encodeURIComponent(query)}` : ''}`,
  );
  const items = results.data?.items ?? [];
  const data = useMemo(() => {
    const options = items.map((r) => ({ value: String(r.id), label: r.label || `#${r.id}` }));
    if (value && !options.some((o) => o.value === value))
      options.unshift({ value, label: label || `#${value}` });
    return options;
  }, [items, value, label]);
  useEffect(() => {
    if (label) setSearch(label);
  }, [label]);
  return (
    <Select
      {...props}
      searchable
      data={data}
      value={value || null}
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options }) => options}
      nothingFoundMessage={results.loading ? 'Searching…' : 'Nothing found'}
      onChange={(id) => {
        onChange(id ?? '');
        const rec = items.find((r) => String(r.id) === id);
        if (rec) onPick?.(rec);
        if (!id) setSearch('');
      }}
    />
  );
}
