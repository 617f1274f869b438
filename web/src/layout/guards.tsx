import { Alert, Container } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import { Navigate, Outlet, useLocation } from 'react-router';
import { FullPageLoader } from '../components/loading-state';
import { useSession } from '../session/session-context';

export function RequireSignIn() {
  const { me } = useSession();
  const location = useLocation();
  if (me === undefined) return <FullPageLoader />;
  if (me === null) {
    const next = location.pathname + location.search;
    return <Navigate to={`/login${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`} replace />;
  }
  return <Outlet />;
}

export function RequireAdmin() {
  const { me } = useSession();
  if (!me?.user.isAdmin) {
    return (
      <Container size="sm" py="xl">
        <Alert color="orange" icon={<IconLock />} title="Permission denied" role="alert">
          This page is for administrators. Ask an administrator of your CRM if you need something changed
          here.
        </Alert>
      </Container>
    );
  }
  return <Outlet />;
}
