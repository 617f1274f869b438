import { Anchor, Text } from '@mantine/core';
import { formatTime } from '../format';
import type { FieldView } from './record-types';

/** A field's value for reading: links for email/phone/url, words for booleans, local time for datetimes. */
export function FieldValue({
  field,
  value,
  timeZone,
  users,
}: {
  field: FieldView;
  value: unknown;
  timeZone?: string;
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
    case 'multipicklist':
      return <>{Array.isArray(value) ? value.join(', ') : s}</>;
    case 'owner':
    case 'modifiedby':
      return <>{users?.get(Number(value)) ?? `User ${s}`}</>;
    default:
      return <>{s}</>;
  }
}
