import { Anchor, Text } from '@mantine/core';
import { Link } from 'react-router';
import { formatAmount, formatDate, formatTime, type TimePrefs } from '../format';
import type { FieldView } from './record-types';
import { useReferenceLabel } from './reference-labels';

/** A field's value for reading: links for email/phone/url, words for booleans, local time for datetimes. */
export function FieldValue({
  field,
  value,
  timeZone,
  users,
}: {
  field: FieldView;
  value: unknown;
  timeZone?: TimePrefs;
  users?: Map<number, string>;
}) {
  if (value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
    return (
      <Text span c="dimmed">
        —
      </Text>
    );
  }
  const s = String(value);
  // a placeholder: no mailto/tel link, and said to be masked
  if (field.masked)
    return (
      <Text span ff="monospace" title="Masked for you" aria-label={`${s} (masked)`}>
        {s}
      </Text>
    );
  switch (field.type) {
    case 'email':
      return <Anchor href={`mailto:${s}`}>{s}</Anchor>;
    case 'phone':
      return <Anchor href={`tel:${s}`}>{s}</Anchor>;
    case 'url':
      return (
        <Anchor href={/^https?:\/\//.test(s) ? s : `https://${s}`} target="_blank" rel="noopener noreferrer">
          {s}
        </Anchor>
      );
    case 'boolean':
      return <>{value === true || s === '1' || s === 'yes' ? 'Yes' : 'No'}</>;
    case 'datetime':
      return <>{formatTime(s, timeZone)}</>;
    case 'date':
      return <>{formatDate(s, timeZone?.dateFormat)}</>;
    case 'currency':
      return <>{formatAmount(s, timeZone?.language)}</>;
    case 'multipicklist':
      return <>{Array.isArray(value) ? value.join(', ') : s}</>;
    case 'owner':
      return <>{users?.get(Number(value)) ?? `User ${s}`}</>;
    case 'reference': {
      const target = field.refersTo?.[0];
      if (!target || target === 'Users') return <>{users?.get(Number(value)) ?? `User ${s}`}</>;
      return <ReferenceValue module={target} id={Number(value)} />;
    }
    default:
      return <>{s}</>;
  }
}

/** A link to the referenced record, named by its label once loaded. */
function ReferenceValue({ module, id }: { module: string; id: number }) {
  const label = useReferenceLabel(module, id);
  return (
    <Anchor component={Link} to={`/records/${module}/${id}`}>
      {label || `#${id}`}
    </Anchor>
  );
}
