import { Alert, Button, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { Component, type ReactNode } from 'react';

interface State {
  failed: boolean;
}

/** A screen that fails to render shows a way out instead of a blank page; the rest of the app keeps working. */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <Alert color="red" icon={<IconAlertTriangle />} title="This page could not be shown" role="alert">
        <Text size="sm">Something unexpected happened while showing this page. Reloading usually helps.</Text>
        <Button size="xs" mt="sm" variant="white" color="red" onClick={() => window.location.reload()}>
          Reload the page
        </Button>
      </Alert>
    );
  }
}
