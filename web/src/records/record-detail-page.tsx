import { Badge, Button, Card, SimpleGrid, Stack, Switch, Tabs, Text, Title } from '@mantine/core';
import { useLocalStorage } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconEdit, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { useApi } from '../api/use-api';
import { ConfirmModal } from '../components/confirm-modal';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { useNavModules } from '../layout/main-nav';
import { useMe, useSession } from '../session/session-context';
import { FieldValue } from './field-value';
import { ConvertLeadButton, LeadConvertedNotice } from './lead-conversion';
import { LineItemsView, type StoredLine } from './line-items-editor';
import { RevealableValue } from './masked-value';
import { type RecordEmail, RecordEmails } from './record-emails';
import { RecordHistory } from './record-history';
import { isEmptyValue, sectionsOf } from './record-sections';
import type { ModuleDescription, RestRecord } from './record-types';
import { RelatedLists, type RelationSummary } from './related-lists';
import { useModule, useUserNames } from './use-module';

export function RecordDetailPage() {
  const { module = '', id = '' } = useParams();
  const { api, can } = useSession();
  const navigate = useNavigate();
  const described = useModule(module);
  const record = useApi<RestRecord>(`records/${encodeURIComponent(module)}/${Number(id) || 0}`);
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
              {meta.name === 'Leads' && meta.updateable && r.converted !== true && can('convertLead') && (
                <ConvertLeadButton lead={r} />
              )}
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
      {r && module === 'Leads' && r.converted === true && <LeadConvertedNotice lead={r} />}
      {meta && r && meta.name === module && <RecordTabs meta={meta} record={r} />}
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

/** Details (in sections), related lists and history as tabs; the open tab is in the URL (`?tab=`). */
function RecordTabs({ meta, record }: { meta: ModuleDescription; record: RestRecord }) {
  const me = useMe();
  const { names } = useUserNames();
  const modules = useNavModules();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'details';
  const related = useApi<{ items: RelationSummary[] }>(`records/${meta.name}/${record.id}/related`);
  const relatedTotal = related.data?.items.reduce((n, x) => n + x.total, 0);
  const emails = useApi<{ items: RecordEmail[] }>(`mailroom/records/${meta.name}/${record.id}/emails`);
  const emailCount = emails.data?.items.length ?? 0;
  return (
    <Tabs
      value={tab}
      onChange={(v) => setParams(v && v !== 'details' ? { tab: v } : {}, { replace: true })}
      keepMounted={false}
    >
      <Tabs.List mb="md">
        <Tabs.Tab value="details">Details</Tabs.Tab>
        <Tabs.Tab
          value="related"
          rightSection={
            relatedTotal !== undefined ? (
              <Badge size="sm" variant="light" circle={relatedTotal < 10}>
                {relatedTotal}
              </Badge>
            ) : undefined
          }
        >
          Related
        </Tabs.Tab>
        <Tabs.Tab value="history">History</Tabs.Tab>
        {/* only when the mailroom turned an email into this record or linked one to it */}
        {emailCount > 0 && (
          <Tabs.Tab
            value="emails"
            rightSection={
              <Badge size="sm" variant="light" circle={emailCount < 10}>
                {emailCount}
              </Badge>
            }
          >
            Emails
          </Tabs.Tab>
        )}
      </Tabs.List>
      <Tabs.Panel value="details">
        <RecordDetails meta={meta} record={record} />
      </Tabs.Panel>
      <Tabs.Panel value="related">
        <ErrorAlert
          error={related.error}
          title="The related lists cannot be shown"
          onRetry={related.reload}
        />
        {related.loading && !related.data && <SectionLoader label="Loading related lists" />}
        {related.data && (
          <RelatedLists module={meta.name} id={record.id} relations={related.data.items} modules={modules} />
        )}
      </Tabs.Panel>
      <Tabs.Panel value="history">
        <RecordHistory
          module={meta.name}
          id={record.id}
          fields={meta.fields}
          prefs={me.user}
          users={names}
          version={record.version}
        />
      </Tabs.Panel>
      <Tabs.Panel value="emails">
        <ErrorAlert error={emails.error} title="The emails cannot be shown" onRetry={emails.reload} />
        {emails.loading && !emails.data && <SectionLoader label="Loading the emails" />}
        {emails.data && <RecordEmails items={emails.data.items} prefs={me.user} />}
      </Tabs.Panel>
    </Tabs>
  );
}

/** The record's fields in sections, empty ones hidden unless the user asks for them. */
function RecordDetails({ meta, record }: { meta: ModuleDescription; record: RestRecord }) {
  const me = useMe();
  const { names } = useUserNames();
  const [hideEmpty, setHideEmpty] = useLocalStorage({ key: 'rapport.hideEmptyFields', defaultValue: true });
  const sections = sectionsOf(meta)
    .map((s) => ({
      ...s,
      fields: hideEmpty ? s.fields.filter((f) => !isEmptyValue(record[f.name])) : s.fields,
    }))
    .filter((s) => s.fields.length > 0);
  return (
    <Stack gap="md" maw={1040}>
      <Switch
        label="Hide empty fields"
        checked={hideEmpty}
        onChange={(e) => setHideEmpty(e.currentTarget.checked)}
      />
      {sections.map((s) => (
        <Card withBorder padding="lg" key={s.key} component="section" aria-label={s.title}>
          <Title order={2} size="h5" mb="sm">
            {s.title}
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md" verticalSpacing="sm" component="dl" m={0}>
            {s.fields.map((f) => (
              <div key={f.name}>
                <Text size="xs" c="dimmed" component="dt">
                  {f.label}
                </Text>
                <Text
                  size="sm"
                  component="dd"
                  m={0}
                  style={{ wordBreak: 'break-word', whiteSpace: 'pre-wrap' }}
                >
                  {f.masked && meta.mayReveal && !isEmptyValue(record[f.name]) ? (
                    <RevealableValue module={meta.name} id={record.id} field={f}>
                      <FieldValue field={f} value={record[f.name]} timeZone={me.user} users={names} />
                    </RevealableValue>
                  ) : (
                    <FieldValue field={f} value={record[f.name]} timeZone={me.user} users={names} />
                  )}
                </Text>
              </div>
            ))}
          </SimpleGrid>
        </Card>
      ))}
      {sections.length === 0 && <Text c="dimmed">Every field of this record is empty.</Text>}
      {meta.hasLineItems && <LineItemsView lines={(record.lineItems as StoredLine[] | undefined) ?? []} />}
    </Stack>
  );
}
