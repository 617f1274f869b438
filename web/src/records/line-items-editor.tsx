import {
  ActionIcon,
  Button,
  Group,
  Paper,
  SegmentedControl,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconPlus, IconTrash } from '@tabler/icons-react';
import { formatAmount } from '../format';
import { useMe } from '../session/session-context';
import { lineNet, quoteTotals, typedNumber } from './quote-math';
import { RecordPicker } from './record-picker';
import type { RestRecord } from './record-types';
import { useReferenceLabel } from './reference-labels';

/** One line being edited; numbers are kept as typed. */
export interface EditLine {
  key: string;
  productId: string;
  quantity: string;
  listprice: string;
  discountKind: 'none' | 'percent' | 'amount';
  discount: string;
  comment: string;
}

/** A quote's stored line items (REST shape). */
export interface StoredLine {
  product_id: number;
  quantity: number;
  listprice: number;
  discount_percent: number | null;
  discount_amount: number | null;
  comment: string | null;
  net_price: number;
}

let counter = 0;
const newKey = () => `line-${++counter}`;

export function editLinesOf(stored: StoredLine[] | undefined): EditLine[] {
  return (stored ?? []).map((l) => ({
    key: newKey(),
    productId: String(l.product_id),
    quantity: String(l.quantity),
    listprice: String(l.listprice),
    discountKind: l.discount_percent !== null ? 'percent' : l.discount_amount !== null ? 'amount' : 'none',
    discount: String(l.discount_percent ?? l.discount_amount ?? ''),
    comment: l.comment ?? '',
  }));
}

/** The API's `lineItems` for the lines (blank product lines are left out; the form refuses them first). */
export function lineItemsInput(lines: EditLine[]) {
  return lines.map((l) => ({
    product_id: Number(l.productId),
    quantity: typedNumber(l.quantity),
    listprice: typedNumber(l.listprice),
    discount_percent: l.discountKind === 'percent' ? typedNumber(l.discount) : null,
    discount_amount: l.discountKind === 'amount' ? typedNumber(l.discount) : null,
    comment: l.comment.trim() || null,
  }));
}

/** Problems the user can fix before saving, by line (1-based), in words. */
export function lineProblems(lines: EditLine[]): string[] {
  const out: string[] = [];
  lines.forEach((l, i) => {
    const n = i + 1;
    if (!l.productId) out.push(`Line ${n}: choose a product.`);
    const q = typedNumber(l.quantity);
    if (q === null || q <= 0) out.push(`Line ${n}: the quantity must be a number above 0.`);
    const p = typedNumber(l.listprice);
    if (l.listprice.trim() !== '' && (p === null || p < 0))
      out.push(`Line ${n}: the price must be 0 or more.`);
    const d = typedNumber(l.discount);
    if (l.discountKind === 'percent' && l.discount.trim() !== '' && (d === null || d < 0 || d > 100))
      out.push(`Line ${n}: the discount must be between 0 and 100 %.`);
    if (l.discountKind === 'amount' && l.discount.trim() !== '' && (d === null || d < 0))
      out.push(`Line ${n}: the discount must be 0 or more.`);
  });
  return out;
}

function netOf(l: EditLine): number {
  const d = typedNumber(l.discount);
  return lineNet({
    quantity: typedNumber(l.quantity) ?? 0,
    listprice: typedNumber(l.listprice) ?? 0,
    discountPercent: l.discountKind === 'percent' ? (d ?? 0) : null,
    discountAmount: l.discountKind === 'amount' ? d : null,
  });
}

/** The totals of lines and the quote's own discount/shipping/adjustment fields, as the server computes them. */
export function totalsOf(lines: EditLine[], values: Record<string, unknown>) {
  return quoteTotals(lines.map(netOf), {
    discountPercent: typedNumber(values.hdnDiscountPercent),
    discountAmount: typedNumber(values.hdnDiscountAmount),
    shipping: typedNumber(values.hdnS_H_Amount),
    adjustment: typedNumber(values.txtAdjustment),
  });
}

/** Add products, quantities, prices (defaulted from the product), discounts and comments; reorder and remove. */
export function LineItemsEditor({
  lines,
  onChange,
  values,
}: {
  lines: EditLine[];
  onChange: (lines: EditLine[]) => void;
  values: Record<string, unknown>;
}) {
  const me = useMe();
  const set = (key: string, patch: Partial<EditLine>) =>
    onChange(lines.map((l) => (l.key === key ? { ...l, ...patch } : l)));
  const move = (i: number, by: number) => {
    const next = [...lines];
    const [l] = next.splice(i, 1);
    next.splice(i + by, 0, l!);
    onChange(next);
  };
  const t = totalsOf(lines, values);
  const money = (n: number) => formatAmount(n, me.user.language);
  return (
    <Paper withBorder p="md" component="section" aria-label="Line items">
      <Title order={2} size="h5" mb="sm">
        Line items
      </Title>
      <Stack gap="sm">
        {lines.map((l, i) => (
          <Paper withBorder p="sm" key={l.key} role="group" aria-label={`Line ${i + 1}`} bg="gray.0">
            <Group align="flex-end" gap="xs" wrap="wrap">
              <RecordPicker
                module="Products"
                label="Product"
                required
                placeholder="Search products"
                value={l.productId}
                onChange={(id) => set(l.key, { productId: id })}
                onPick={(p: RestRecord) =>
                  set(l.key, {
                    productId: String(p.id),
                    listprice: p.unit_price != null ? String(p.unit_price) : l.listprice,
                  })
                }
                w={{ base: '100%', sm: 240 }}
              />
              <TextInput
                label="Quantity"
                inputMode="decimal"
                value={l.quantity}
                onChange={(e) => set(l.key, { quantity: e.currentTarget.value })}
                w={90}
              />
              <TextInput
                label="List price"
                inputMode="decimal"
                value={l.listprice}
                placeholder="Product's price"
                onChange={(e) => set(l.key, { listprice: e.currentTarget.value })}
                w={120}
              />
              <Stack gap={4}>
                <Text size="sm" fw={500} id={`${l.key}-dk`}>
                  Discount
                </Text>
                <SegmentedControl
                  size="xs"
                  aria-labelledby={`${l.key}-dk`}
                  value={l.discountKind}
                  onChange={(v) => set(l.key, { discountKind: v as EditLine['discountKind'] })}
                  data={[
                    { value: 'none', label: 'None' },
                    { value: 'percent', label: '%' },
                    { value: 'amount', label: 'Amount' },
                  ]}
                />
              </Stack>
              {l.discountKind !== 'none' && (
                <TextInput
                  label={l.discountKind === 'percent' ? 'Discount %' : 'Discount amount'}
                  inputMode="decimal"
                  value={l.discount}
                  onChange={(e) => set(l.key, { discount: e.currentTarget.value })}
                  w={110}
                />
              )}
              <Stack gap={0} ml="auto" align="flex-end">
                <Text size="xs" c="dimmed">
                  Net
                </Text>
                <Text fw={600} data-testid="line-net">
                  {money(netOf(l))}
                </Text>
              </Stack>
            </Group>
            <Group align="flex-end" gap="xs" mt="xs" wrap="nowrap">
              <TextInput
                label="Comment"
                value={l.comment}
                onChange={(e) => set(l.key, { comment: e.currentTarget.value })}
                style={{ flex: 1 }}
              />
              <ActionIcon
                variant="default"
                size="lg"
                aria-label={`Move line ${i + 1} up`}
                disabled={i === 0}
                onClick={() => move(i, -1)}
              >
                <IconArrowUp size={16} />
              </ActionIcon>
              <ActionIcon
                variant="default"
                size="lg"
                aria-label={`Move line ${i + 1} down`}
                disabled={i === lines.length - 1}
                onClick={() => move(i, 1)}
              >
                <IconArrowDown size={16} />
              </ActionIcon>
              <ActionIcon
                variant="light"
                color="red"
                size="lg"
                aria-label={`Remove line ${i + 1}`}
                onClick={() => onChange(lines.filter((x) => x.key !== l.key))}
              >
                <IconTrash size={16} />
              </ActionIcon>
            </Group>
          </Paper>
        ))}
        <Group justify="space-between" align="flex-start" wrap="wrap">
          <Button
            variant="light"
            leftSection={<IconPlus size={16} aria-hidden />}
            onClick={() =>
              onChange([
                ...lines,
                {
                  key: newKey(),
                  productId: '',
                  quantity: '1',
                  listprice: '',
                  discountKind: 'none',
                  discount: '',
                  comment: '',
                },
              ])
            }
          >
            Add line
          </Button>
          <Totals t={t} money={money} />
        </Group>
      </Stack>
    </Paper>
  );
}

function Totals({ t, money }: { t: ReturnType<typeof totalsOf>; money: (n: number) => string }) {
  return (
    <Table w={280} withRowBorders={false} verticalSpacing={2} aria-label="Totals">
      <Table.Tbody>
        <Table.Tr>
          <Table.Th>Sub Total</Table.Th>
          <Table.Td ta="right" data-testid="total-sub">
            {money(t.subTotal)}
          </Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th>Discount</Table.Th>
          <Table.Td ta="right">−{money(t.discount)}</Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th>Pre Tax Total</Table.Th>
          <Table.Td ta="right">{money(t.preTax)}</Table.Td>
        </Table.Tr>
        <Table.Tr>
          <Table.Th>Total</Table.Th>
          <Table.Td ta="right" fw={700} data-testid="total-grand">
            {money(t.grand)}
          </Table.Td>
        </Table.Tr>
      </Table.Tbody>
    </Table>
  );
}

/** A quote's lines on its detail page: product, quantity, price, discount, net, comment. */
export function LineItemsView({ lines }: { lines: StoredLine[] }) {
  const me = useMe();
  const money = (n: number) => formatAmount(n, me.user.language);
  return (
    <Paper withBorder p="lg" component="section" aria-label="Line items">
      <Title order={2} size="h5" mb="sm">
        Line items
      </Title>
      {lines.length === 0 ? (
        <Text c="dimmed">No products on this quote yet.</Text>
      ) : (
        <Table.ScrollContainer minWidth={560}>
          <Table verticalSpacing="xs" aria-label="Line items">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Product</Table.Th>
                <Table.Th ta="right">Quantity</Table.Th>
                <Table.Th ta="right">List price</Table.Th>
                <Table.Th ta="right">Discount</Table.Th>
                <Table.Th ta="right">Net</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {lines.map((l, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: lines have no identity but their position
                <Table.Tr key={i}>
                  <Table.Td>
                    <ProductName id={l.product_id} />
                    {l.comment && (
                      <Text size="xs" c="dimmed">
                        {l.comment}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td ta="right">{l.quantity}</Table.Td>
                  <Table.Td ta="right">{money(l.listprice)}</Table.Td>
                  <Table.Td ta="right">
                    {l.discount_percent !== null
                      ? `${l.discount_percent} %`
                      : l.discount_amount !== null
                        ? money(l.discount_amount)
                        : '—'}
                  </Table.Td>
                  <Table.Td ta="right">{money(l.net_price)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Paper>
  );
}

function ProductName({ id }: { id: number }) {
  const label = useReferenceLabel('Products', id);
  return <>{label ?? `Product #${id}`}</>;
}
