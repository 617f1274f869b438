import { Anchor, Badge, Button, Paper, Table, Text } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { Link } from 'react-router';
import { useApi } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { SectionLoader } from '../components/loading-state';
import { PageHeader } from '../components/page-header';
import type { SavedReport } from './report-types';

/** Reports the user may open: their own, shared with them or their role, and public ones. */
export function ReportsPage() {
  const reports = useApi<{ items: SavedReport[] }>('reports');
  return (
    <>
      <PageHeader
        title="Reports"
        description="Rows, groups and totals over a module and its related modules. Every viewer sees only the records and values they may see."
        actions={
          <Button component={Link} to="/reports/new" leftSection={<IconPlus size={16} />}>
            New report
          </Button>
        }
      />
      <ErrorAlert error={reports.error} title="Reports cannot be listed" onRetry={reports.reload} />
      {reports.loading && !reports.data && <SectionLoader label="Loading reports" />}
      {reports.data && (
        <Paper withBorder>
          {reports.data.items.length === 0 ? (
            <Text p="md" c="dimmed">
              No reports yet. Create one with “New report”.
            </Text>
          ) : (
            <Table highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Module</Table.Th>
                  <Table.Th>Shared</Table.Th>
                  <Table.Th>Changed</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {reports.data.items.map((r) => (
                  <Table.Tr key={r.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/reports/${r.id}`}>
                        {r.name}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{r.primaryModule}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={r.visibility === 'private' ? 'gray' : 'indigo'}>
                        {r.visibility}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{new Date(r.updatedAt).toLocaleString()}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Paper>
      )}
    </>
  );
}
