import { Alert, Anchor, Button, Checkbox, Group, Modal, SimpleGrid, Stack, TextInput } from '@mantine/core';
import { IconArrowsSplit, IconCircleCheck } from '@tabler/icons-react';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useApi } from '../api/use-api';
import { useSubmit } from '../api/use-submit';
import { FormActions } from '../components/form-actions';
import { useSession } from '../session/session-context';
import { FieldInput, type FormValue } from './field-input';
import type { RestRecord } from './record-types';
import { useModule } from './use-module';

/** `GET /api/v1/records/Leads/{id}/conversion` */
interface Conversion {
  leadId: number;
  accountId: number | null;
  contactId: number | null;
  potentialId: number | null;
  convertedAt: string;
}

const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));

/** A converted lead says so, with links to the organization, contact and deal it became. */
export function LeadConvertedNotice({ lead }: { lead: RestRecord }) {
  const conversion = useApi<Conversion>(`records/Leads/${lead.id}/conversion`);
  const c = conversion.data;
  return (
    <Alert color="teal" variant="light" icon={<IconCircleCheck />} title="Converted" mb="md">
      {c ? (
        <Group gap="lg">
          {c.accountId !== null && <BecameLink module="Accounts" id={c.accountId} kind="Organization" />}
          {c.contactId !== null && <BecameLink module="Contacts" id={c.contactId} kind="Contact" />}
          {c.potentialId !== null && <BecameLink module="Potentials" id={c.potentialId} kind="Deal" />}
        </Group>
      ) : conversion.error ? (
        'This lead has been converted; what it became cannot be shown to you.'
      ) : (
        'This lead has been converted.'
      )}
    </Alert>
  );
}

function BecameLink({ module, id, kind }: { module: string; id: number; kind: string }) {
  const rec = useApi<RestRecord>(`records/${module}/${id}`);
  // a record the viewer may not open (sharing) still shows what it is, without a dead link
  if (rec.error) return <span>{kind} (not visible to you)</span>;
  return (
    <span>
      {kind}:{' '}
      <Anchor component={Link} to={`/records/${module}/${id}`}>
        {rec.data?.label || `#${id}`}
      </Anchor>
    </span>
  );
}

/** The "Convert lead" action: a form for the organization, contact and optional deal the lead becomes. */
export function ConvertLeadButton({ lead }: { lead: RestRecord }) {
  const [opened, setOpened] = useState(false);
  return (
    <>
      <Button variant="light" leftSection={<IconArrowsSplit size={16} />} onClick={() => setOpened(true)}>
        Convert lead
      </Button>
      <Modal opened={opened} onClose={() => setOpened(false)} title="Convert lead" size="lg">
        {opened && <ConvertLeadForm lead={lead} onCancel={() => setOpened(false)} />}
      </Modal>
    </>
  );
}

function ConvertLeadForm({ lead, onCancel }: { lead: RestRecord; onCancel: () => void }) {
  const { api } = useSession();
  const navigate = useNavigate();
  const deals = useModule('Potentials');
  const dealField = (name: string) => deals.data?.fields.find((f) => f.name === name);
  const [withAccount, setWithAccount] = useState(str(lead.company) !== '');
  const [withContact, setWithContact] = useState(true);
  const [withDeal, setWithDeal] = useState(false);
  const [v, setV] = useState<Record<string, string>>({
    accountname: str(lead.company),
    firstname: str(lead.firstname),
    lastname: str(lead.lastname),
    email: str(lead.email),
    potentialname: str(lead.company) || str(lead.label),
    amount: '',
    sales_stage: '',
    closingdate: '',
  });
  const [missing, setMissing] = useState<string[]>([]);
  const {
    submit: convert,
    busy,
    error,
  } = useSubmit(
    (body: Record<string, unknown>) => api.post<Conversion>(`records/Leads/${lead.id}/convert`, body),
    {
      success: `${lead.label || 'The lead'} was converted.`,
      onDone: (done) => {
        if (done.contactId !== null) navigate(`/records/Contacts/${done.contactId}`);
        else if (done.accountId !== null) navigate(`/records/Accounts/${done.accountId}`);
        else navigate(`/records/Leads/${lead.id}`);
      },
      keepBusy: true,
    },
  );
  const set = (name: string) => (value: FormValue) => setV((prev) => ({ ...prev, [name]: String(value) }));

  const required = [
    ...(withAccount ? ['accountname'] : []),
    ...(withContact ? ['lastname'] : []),
    ...(withDeal ? ['potentialname', 'closingdate', 'sales_stage'] : []),
  ];
  const errorFor = (name: string, label: string) =>
    missing.includes(name) && !v[name]?.trim() ? `${label} is required.` : undefined;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const empty = required.filter((n) => !v[n]?.trim());
    setMissing(empty);
    if (empty.length) {
      document.querySelector<HTMLElement>(`[name="convert-${empty[0]}"], [name="${empty[0]}"]`)?.focus();
      return;
    }
    const body: Record<string, unknown> = {};
    if (withAccount) body.account = { accountname: v.accountname!.trim() };
    if (withContact)
      body.contact = { firstname: v.firstname!.trim(), lastname: v.lastname!.trim(), email: v.email!.trim() };
    if (withDeal)
      body.potential = {
        potentialname: v.potentialname!.trim(),
        closingdate: v.closingdate,
        sales_stage: v.sales_stage,
        ...(v.amount!.trim() ? { amount: Number(v.amount) } : {}),
      };
    void convert(body);
  };

  const text = (name: string, label: string, opts: { type?: string; required?: boolean } = {}) => (
    <TextInput
      label={label}
      name={`convert-${name}`}
      type={opts.type}
      required={opts.required}
      value={v[name] ?? ''}
      error={errorFor(name, label)}
      onChange={(e) => set(name)(e.currentTarget.value)}
    />
  );
  const stage = dealField('sales_stage');
  const close = dealField('closingdate');
  const amount = dealField('amount');

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <Checkbox
          label="Create an organization"
          description="An organization you can see with the same name is linked instead of made twice."
          checked={withAccount}
          onChange={(e) => setWithAccount(e.currentTarget.checked)}
        />
        {withAccount && text('accountname', 'Organization Name', { required: true })}
        <Checkbox
          label="Create a contact"
          checked={withContact}
          onChange={(e) => setWithContact(e.currentTarget.checked)}
        />
        {withContact && (
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {text('firstname', 'First Name')}
            {text('lastname', 'Last Name', { required: true })}
            {text('email', 'Email', { type: 'email' })}
          </SimpleGrid>
        )}
        <Checkbox
          label="Create a deal"
          checked={withDeal}
          onChange={(e) => setWithDeal(e.currentTarget.checked)}
        />
        {withDeal && (
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {text('potentialname', 'Deal Name', { required: true })}
            {amount && <FieldInput field={amount} value={v.amount ?? ''} onChange={set('amount')} />}
            {stage && (
              <FieldInput
                field={stage}
                value={v.sales_stage ?? ''}
                onChange={set('sales_stage')}
                error={errorFor('sales_stage', stage.label)}
              />
            )}
            {close && (
              <FieldInput
                field={close}
                value={v.closingdate ?? ''}
                onChange={set('closingdate')}
                error={errorFor('closingdate', close.label)}
              />
            )}
          </SimpleGrid>
        )}
        {!withAccount && !withContact && (
          <Alert color="orange" variant="light" role="alert">
            Converting a lead creates an organization, a contact or both: choose at least one.
          </Alert>
        )}
        <FormActions
          error={error}
          errorTitle="The lead was not converted"
          onCancel={onCancel}
          busy={busy}
          disabled={!withAccount && !withContact}
        >
          Convert
        </FormActions>
      </Stack>
    </form>
  );
}
