import { Button, Container, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <Container size="sm" py="xl">
      <Stack align="flex-start">
        <Title order={1} size="h2">
          Page not found
        </Title>
        <Text c="dimmed">There is no page at this address. It may have moved, or the link is mistyped.</Text>
        <Button component={Link} to="/settings">
          Go to Settings
        </Button>
      </Stack>
    </Container>
  );
}
