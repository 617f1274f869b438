import { Anchor, Card, SimpleGrid, Text } from '@mantine/core';
import { Link, Route, Routes } from 'react-router';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import { NotFoundPage } from '../pages/not-found-page';
import { useSession } from '../session/session-context';
import { RecordDetailPage } from './record-detail-page';
import { RecordFormPage } from './record-form-page';
import { RecordListPage } from './record-list-page';
import type { ModuleSummary } from './record-types';

export function RecordRoutes() {
  const { can } = useSession();
  if (!can('records')) return <NotFoundPage />;
  return (
    <Routes>
      <Route index element={<ModulesPage />} />
      <Route path=":module" element={<RecordListPage />} />
      <Route path=":module/new" element={<RecordFormPage />} />
      <Route path=":module/:id" element={<RecordDetailPage />} />
      <Route path=":module/:id/edit" element={<RecordFormPage />} />
    </Routes>
  );
}

function ModulesPage() {
  const modules = useApi<{ items: ModuleSummary[] }>('modules');
  return (
    <>
      <PageHeader title="Records" description="The modules of this CRM you may open." />
      <ErrorAlert error={modules.error} title="The modules cannot be listed" onRetry={modules.reload} />
      {modules.loading && <SectionLoader label="Loading modules" />}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
        {(modules.data?.items ?? [])
          .filter((m) => m.retrieveable)
          .map((m) => (
            <Card withBorder key={m.name}>
              <Anchor component={Link} to={`/records/${m.name}`} fw={600}>
                {m.label}
              </Anchor>
              <Text size="sm" c="dimmed">
                {m.singular} records
              </Text>
            </Card>
          ))}
      </SimpleGrid>
    </>
  );
}
