import { Alert, Anchor, Loader, Text } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { ApiError } from '../api/api-client';
import { asApiError } from '../api/use-api';
import { ErrorAlert } from '../components/error-alert';
import { useSession } from '../session/session-context';
import { PublicCard } from './public-card';

/** The page behind the emailed verification link: it spends the token once and says what happened. */
export function VerifyEmailPage() {
  const { api } = useSession();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [email, setEmail] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const sent = useRef(false);

  useEffect(() => {
    if (sent.current || !token) return;
    sent.current = true;
    api.post<{ email: string }>('auth/verify-email', { token }).then(
      (res) => setEmail(res.email),
      (err: unknown) => setError(asApiError(err)),
    );
  }, [api, token]);

  return (
    <PublicCard title="Verify your email address">
      {!token && <Text>This link is incomplete. Open the link from the email again.</Text>}
      {token && !email && !error && <Loader mx="auto" role="img" aria-label="Verifying" />}
      {email && (
        <Alert color="green" title="Email address verified" role="status">
          {email} is verified. Rapport can now send mail from and to it.
        </Alert>
      )}
      <ErrorAlert error={error} title="The address was not verified" />
      <Anchor component={Link} to="/" ta="center">
        Continue to Rapport
      </Anchor>
    </PublicCard>
  );
}
