import { ActionIcon, Button, Kbd, Loader, Modal, Text, TextInput, UnstyledButton } from '@mantine/core';
import { IconSearch } from '@tabler/icons-react';
import { type KeyboardEvent, useEffect, useMemo, useState } from 'react';
import { useNavigate } from 'react-router';
import { asApiError } from '../api/use-api';
import type { ModuleSummary } from '../records/record-types';
import { useSession } from '../session/session-context';
import { groupHits, matchedLine, type SearchHit } from './search-results';

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);
const SHORTCUT = isMac ? '⌘ K' : 'Ctrl K';

/** Typing in a field keeps "/" as a character; only Ctrl/Cmd+K opens search from there. */
function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/**
 * The header's search: a button (and Ctrl+K / ⌘K / "/") opening a dialog whose box searches every module
 * the user may see on the server, results ranked and grouped by module; arrows move, Enter opens.
 */
export function GlobalSearch({ modules }: { modules: ModuleSummary[] }) {
  const [opened, setOpened] = useState(false);
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      const ctrlK = e.key.toLowerCase() === 'k' && (e.ctrlKey || e.metaKey) && !e.altKey;
      const slash = e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !isTyping(e.target);
      if (!ctrlK && !slash) return;
      e.preventDefault();
      setOpened(true);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  // the full button fits beside the header's links from the lg breakpoint; below it, an icon
  return (
    <>
      <Button
        variant="default"
        visibleFrom="lg"
        onClick={() => setOpened(true)}
        leftSection={<IconSearch size={16} aria-hidden />}
        rightSection={<Kbd size="xs">{SHORTCUT}</Kbd>}
        aria-keyshortcuts="Control+K Meta+K /"
        styles={{ label: { fontWeight: 400 } }}
      >
        Search
      </Button>
      <ActionIcon
        variant="default"
        size="lg"
        hiddenFrom="lg"
        onClick={() => setOpened(true)}
        aria-label="Search"
        aria-keyshortcuts="Control+K Meta+K /"
      >
        <IconSearch size={18} aria-hidden />
      </ActionIcon>
      <Modal
        opened={opened}
        onClose={() => setOpened(false)}
        title="Search records"
        size="lg"
        yOffset="8vh"
        trapFocus
      >
        {opened && <SearchBox modules={modules} onDone={() => setOpened(false)} />}
      </Modal>
    </>
  );
}

const optionId = (i: number) => `global-search-option-${i}`;

type State =
  | { status: 'idle' }
  | { status: 'loading'; hits: SearchHit[] }
  | { status: 'done'; hits: SearchHit[] }
  | { status: 'error'; message: string };

function SearchBox({ modules, onDone }: { modules: ModuleSummary[]; onDone: () => void }) {
  const { api } = useSession();
  const navigate = useNavigate();
  const [query, setQuery] = useState('');
  const [state, setState] = useState<State>({ status: 'idle' });
  const [active, setActive] = useState(0);

  useEffect(() => {
    const q = query.trim();
    if (q === '') {
      setState({ status: 'idle' });
      return;
    }
    let live = true;
    setState((s) => ({ status: 'loading', hits: 'hits' in s ? s.hits : [] }));
    // a short pause so typing a name sends one request, not one per letter
    const timer = setTimeout(() => {
      api.get<{ items: SearchHit[] }>(`search?q=${encodeURIComponent(q)}&limit=20`).then(
        (res) => {
          if (!live) return;
          setState({ status: 'done', hits: res.items });
          setActive(0);
        },
        (err: unknown) => live && setState({ status: 'error', message: asApiError(err).message }),
      );
    }, 120);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, query]);

  const hits = 'hits' in state ? state.hits : [];
  const labelOf = useMemo(() => {
    const byName = new Map(modules.map((m) => [m.name, m.label]));
    return (name: string) => byName.get(name) ?? name;
  }, [modules]);
  const groups = useMemo(() => groupHits(hits, labelOf), [hits, labelOf]);
  const ordered = groups.flatMap((g) => g.hits);
  const current = ordered[Math.min(active, ordered.length - 1)];

  useEffect(() => {
    if (current) document.getElementById(optionId(current.index))?.scrollIntoView({ block: 'nearest' });
  }, [current]);

  const open = (hit: SearchHit) => {
    onDone();
    navigate(`/records/${hit.module}/${hit.id}`);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (ordered.length === 0) return;
    if (e.key === 'ArrowDown') setActive((i) => (i + 1) % ordered.length);
    else if (e.key === 'ArrowUp') setActive((i) => (i - 1 + ordered.length) % ordered.length);
    else if (e.key === 'Home' && e.ctrlKey) setActive(0);
    else if (e.key === 'End' && e.ctrlKey) setActive(ordered.length - 1);
    else if (e.key === 'Enter' && current) open(current);
    else return;
    e.preventDefault();
  };

  const expanded = ordered.length > 0;
  return (
    <>
      <TextInput
        data-autofocus
        value={query}
        onChange={(e) => setQuery(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        placeholder="Name, email, phone or number"
        leftSection={<IconSearch size={16} aria-hidden />}
        rightSection={state.status === 'loading' ? <Loader size="xs" aria-hidden /> : null}
        role="combobox"
        aria-label="Search records"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls="global-search-results"
        aria-activedescendant={expanded && current ? optionId(current.index) : undefined}
        autoComplete="off"
        spellCheck={false}
        maxLength={200}
      />
      <Text size="sm" c="dimmed" mt="xs" role="status" aria-live="polite">
        {statusLine(state, query)}
      </Text>
      <div
        id="global-search-results"
        role="listbox"
        aria-label="Search results"
        style={{ maxHeight: '60vh', overflowY: 'auto', marginTop: 8 }}
      >
        {groups.map((g) => (
          // biome-ignore lint/a11y/useSemanticElements: an option group of a listbox is an ARIA group, not a fieldset
          <div role="group" aria-labelledby={`global-search-group-${g.module}`} key={g.module}>
            <Text
              id={`global-search-group-${g.module}`}
              role="presentation"
              size="xs"
              fw={700}
              tt="uppercase"
              c="dimmed"
              mt="sm"
              mb={4}
            >
              {g.label}
            </Text>
            {g.hits.map((hit) => {
              const selected = hit.index === current?.index;
              const line = matchedLine(hit);
              return (
                <UnstyledButton
                  component="div"
                  role="option"
                  id={optionId(hit.index)}
                  key={`${hit.module}-${hit.id}`}
                  aria-selected={selected}
                  tabIndex={-1}
                  onMouseDown={(e) => e.preventDefault()}
                  onMouseMove={() => setActive(hit.index)}
                  onClick={() => open(hit)}
                  display="block"
                  w="100%"
                  px="sm"
                  py={6}
                  style={{
                    borderRadius: 'var(--mantine-radius-sm)',
                    background: selected ? 'var(--mantine-primary-color-light)' : undefined,
                  }}
                >
                  <Text size="sm" fw={600} truncate>
                    {hit.label || `#${hit.id}`}
                  </Text>
                  {line && (
                    <Text size="xs" c="dimmed" truncate>
                      {line}
                    </Text>
                  )}
                </UnstyledButton>
              );
            })}
          </div>
        ))}
      </div>
    </>
  );
}

function statusLine(state: State, query: string): string {
  if (query.trim() === '') return 'Type a name, email, phone or record number. ↑ ↓ move, Enter opens.';
  if (state.status === 'error') return state.message;
  if (state.status === 'loading' && state.hits.length === 0) return 'Searching…';
  if (state.status === 'done' && state.hits.length === 0) return `No records match “${query.trim()}”.`;
  const n = 'hits' in state ? state.hits.length : 0;
  return `${n} ${n === 1 ? 'record' : 'records'} found`;
}
