import { createHash } from 'node:crypto';
import type { Address } from 'postal-mime';
import { RAPPORT_MAIL_HEADER } from '../mail/mailer.js';

/** What the mailroom knows about one message after parsing: addresses, text, attachments, loop signals. */
export interface ParsedMail {
  /** the normalised Message-ID, or null when the message has none */
  messageId: string | null;
  /** per-source dedup key: `mid:<Message-ID>`, or `sha256:<hash of the raw bytes>` without one */
  dedupKey: string;
  from: { address: string; name: string } | null;
  to: string[];
  cc: string[];
  subject: string;
  /** the Date header (epoch ms), when it parses */
  sentAt: number | null;
  /** the text the rules and the record see: text/plain, else the HTML flattened (no word wrap) */
  body: string;
  /** label/value pairs from two-cell rows of HTML tables (web-form notifications) */
  tablePairs: Array<[string, string]>;
  attachments: Array<{ filename: string; mimeType: string; size: number }>;
  headers: Array<{ key: string; value: string }>;
  /** why this message must not become a record (auto-reply, bulk, our own mail), or null */
  loopReason: string | null;
}

const MAX_BODY_CHARS = 131_072;
const MAX_HTML_FOR_TABLES = 1_048_576;

export function normaliseMessageId(raw: string | undefined | null): string | null {
  if (!raw) return null;
  const m = /<([^<>\s]+)>/.exec(raw);
  const id = (m ? m[1]! : raw).trim();
  return id === '' || id.length > 998 ? null : id;
}

export function dedupKeyOf(messageId: string | null, raw: Uint8Array): string {
  return messageId ? `mid:${messageId}` : `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

const addresses = (list: Address[] | undefined): string[] => {
  const out: string[] = [];
  for (const a of list ?? []) {
    if (a.address) out.push(a.address.toLowerCase());
    for (const g of a.group ?? []) if (g.address) out.push(g.address.toLowerCase());
  }
  return [...new Set(out)];
};

type MailLibs = {
  PostalMime: typeof import('postal-mime').default;
  convert: typeof import('html-to-text').convert;
};
let mailLibs: Promise<MailLibs> | undefined;
/** postal-mime and html-to-text load with the first message: a server that reads no mail never holds them. */
function loadMailLibs(): Promise<MailLibs> {
  mailLibs ??= Promise.all([import('postal-mime'), import('html-to-text')]).then(([p, h]) => ({
    PostalMime: p.default,
    convert: h.convert,
  }));
  return mailLibs;
}

function htmlToText(convert: MailLibs['convert'], html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ],
    limits: { maxInputLength: 4_000_000 },
  });
}

/** Two-cell table rows as [label, value] pairs: `<tr><td>Phone</td><td>555</td></tr>`. */
export function tablePairsOf(html: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const src = html.length > MAX_HTML_FOR_TABLES ? html.slice(0, MAX_HTML_FOR_TABLES) : html;
  for (const row of src.split(/<tr[\s>]/i).slice(1)) {
    const end = row.search(/<\/tr\s*>/i);
    const cells = (end >= 0 ? row.slice(0, end) : row)
      .split(/<t[dh](?:\s[^>]*)?>/i)
      .slice(1)
      .map((c) => cellText(c));
    if (cells.length === 2 && cells[0] !== '') pairs.push([cells[0]!, cells[1]!]);
  }
  return pairs;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function cellText(cell: string): string {
  return cell
    .replace(/<\/t[dh]\s*>[\s\S]*$/i, '')
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) => {
      if (e[0] === '#')
        return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : +e.slice(1));
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\s+/g, ' ')
    .trim();
}

function header(headers: Array<{ key: string; value: string }>, key: string): string | undefined {
  return headers.find((h) => h.key === key)?.value;
}

/** RFC 3834 and the de-facto headers of auto-responders and bulk mail (Redmine's and GitLab's set). */
export function loopReasonOf(headers: Array<{ key: string; value: string }>): string | null {
  const auto = header(headers, 'auto-submitted')?.trim().toLowerCase();
  if (auto && auto !== 'no') return `Auto-Submitted: ${auto}`;
  if (header(headers, RAPPORT_MAIL_HEADER) !== undefined) return "Rapport's own outgoing mail";
  for (const k of ['x-autoreply', 'x-autorespond', 'x-auto-response-suppress']) {
    const v = header(headers, k);
    if (v !== undefined && (k !== 'x-auto-response-suppress' || /\ball\b|\boof\b|\bautoreply\b/i.test(v)))
      return `${k}: ${v.trim()}`;
  }
  const precedence = header(headers, 'precedence')?.trim().toLowerCase();
  if (precedence && ['bulk', 'list', 'junk', 'auto_reply'].includes(precedence))
    return `Precedence: ${precedence}`;
  if (header(headers, 'list-id') !== undefined) return 'List-Id (mailing list)';
  const rp = header(headers, 'return-path');
  if (rp !== undefined && /^\s*<\s*>\s*$/.test(rp)) return 'empty Return-Path (bounce or auto-reply)';
  return null;
}

/** Parses raw RFC 822 bytes. Throws only on input postal-mime cannot read at all. */
export async function parseMail(raw: Uint8Array): Promise<ParsedMail> {
  const { PostalMime, convert } = await loadMailLibs();
  const email = await PostalMime.parse(raw, {
    attachmentEncoding: 'arraybuffer',
    maxNestingDepth: 50,
    maxHeadersSize: 1_048_576,
    maxRfc822NestingDepth: 3,
  });
  const headers = email.headers.map((h) => ({ key: h.key.toLowerCase(), value: h.value }));
  const messageId = normaliseMessageId(email.messageId);
  const from = email.from?.address
    ? { address: email.from.address.toLowerCase(), name: (email.from.name ?? '').trim() }
    : null;
  const html = email.html ?? '';
  let body = email.text && email.text.trim() !== '' ? email.text : html ? htmlToText(convert, html) : '';
  body = body.replace(/\r\n?/g, '\n');
  if (body.length > MAX_BODY_CHARS) body = body.slice(0, MAX_BODY_CHARS);
  const sent = email.date ? Date.parse(email.date) : NaN;
  return {
    messageId,
    dedupKey: dedupKeyOf(messageId, raw),
    from,
    to: addresses(email.to),
    cc: addresses(email.cc),
    subject: (email.subject ?? '').replace(/\s+/g, ' ').trim(),
    sentAt: Number.isFinite(sent) ? sent : null,
    body,
    tablePairs: html ? tablePairsOf(html) : [],
    attachments: email.attachments.map((a) => ({
      filename: a.filename ?? '(unnamed)',
      mimeType: a.mimeType,
      size: typeof a.content === 'string' ? a.content.length : a.content.byteLength,
    })),
    headers,
    loopReason: loopReasonOf(headers),
  };
}
