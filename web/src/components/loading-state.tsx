import { Center, Loader, VisuallyHidden } from '@mantine/core';

// The spinner is decoration; the words are what a screen reader announces (a label on the spinner's bare
// <span> is not allowed by ARIA, which axe reports as serious).

export function FullPageLoader() {
  return (
    <Center h="100vh" role="status">
      <Loader aria-hidden />
      <VisuallyHidden>Loading</VisuallyHidden>
    </Center>
  );
}

export function SectionLoader({ label = 'Loading' }: { label?: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Loader size="sm" aria-hidden />
      <VisuallyHidden>{label}</VisuallyHidden>
    </Center>
  );
}
