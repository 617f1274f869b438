import { Button, Card, SimpleGrid, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconEdit, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useApi } from '../api/use-api';
import { ConfirmModal } from '../components/confirm-modal';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { useMe, useSession } from '../session/session-context';
import { FieldValue } from './field-value';
import { RevealableValue } from './masked-value';
import { RecordHistory } from './record-history';
import type { RestRecord } from './record-types';
import { useModule, useUserNames } from './use-module';

export function RecordDetailPage() {
  const { module = '', id = '' } = useParams();
  const me = useMe();
  const { api } = useSession();
  const navigate = useNavigate();
  const described = useModule(module);
  const record = useApi<RestRecord>(`records/${encodeURIComponent(module)}/${Number(id) || 0}`);
  const { names } = useUserNames();
  const [deleting, setDeleting] = useState(false);
  const meta = described.data;
  const r = record.data;

  return (
    <>
      <PageHeader
        title={r?.label || (meta ? `${meta.singular} ${id}` : 'Record')}
        crumbs={[
          { label: 'Records', to: '/records' },
          { label: meta?.label ?? module, to: `/records/${module}` },
          { label: r?.label || id },
        ]}
        actions={
          meta &&
          r && (
            <>
              {meta.updateable && (
                <Button
                  component={Link}
                  to={`/records/${module}/${id}/edit`}
                  leftSection={<IconEdit size={16} />}
                >
                  Edit
                </Button>
              )}
              {meta.deleteable && (
                <Button
                  variant="light"
                  color="red"
                  leftSection={<IconTrash size={16} />}
                  onClick={() => setDeleting(true)}
                >
                  Delete
                </Button>
              )}
            </>
          )
        }
      />
      <ErrorAlert
        error={described.error ?? record.error}
        title="This record cannot be shown"
        onRetry={record.reload}
      />
      {(described.loading || record.loading) && !r && <SectionLoader label="Loading the record" />}
      {meta && r && (
        <Card withBorder padding="lg" maw={960}>
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
            {meta.fields.map((f) => (
              <div key={f.name}>
                <Text size="xs" c="dimmed">
                  {f.label}
                </Text>
                <Text size="sm" component="div" style={{ wordBreak: 'break-word' }}>
                  {f.masked && meta.mayReveal && r[f.name] !== null && r[f.name] !== '' ? (
                    <RevealableValue module={module} id={r.id} field={f}>
                      <FieldValue field={f} value={r[f.name]} timeZone={me.user} users={names} />
                    </RevealableValue>
                  ) : (
                    <FieldValue field={f} value={r[f.name]} timeZone={me.user} users={names} />
                  )}
                </Text>
              </div>
            ))}
          </SimpleGrid>
        </Card>
      )}
      {meta && r && (
        <RecordHistory
          module={module}
          id={r.id}
          fields={meta.fields}
          prefs={me.user}
          users={names}
          version={r.version}
        />
      )}
      {meta && r && (
        <ConfirmModal
          opened={deleting}
          onClose={() => setDeleting(false)}
          title={`Delete ${r.label || `this ${meta.singular.toLowerCase()}`}?`}
          confirmLabel="Delete"
          danger
          onConfirm={async () => {
            await api.del(`records/${module}/${r.id}`);
            notifications.show({ color: 'green', message: `${r.label || meta.singular} was deleted.` });
            navigate(`/records/${module}`);
          }}
        >
          The record disappears from lists and searches. Its history, including this deletion, is kept.
        </ConfirmModal>
      )}
    </>
  );
}
