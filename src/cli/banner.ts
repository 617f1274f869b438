/**
 * What a person starting Rapport by hand must not miss: where it is, and the one-time admin password.
 * On a terminal it is a framed, bold block; for a log collector, plain lines (the password still once).
 */
export function startBanner(opts: {
  address: string;
  readable: boolean;
  generatedPassword: string | undefined;
}): string {
  const lines = [`Rapport is running at ${opts.address}`];
  if (opts.generatedPassword) {
    lines.push(
      '',
      'Rapport created the administrator account.',
      'username: admin',
      `password: ${opts.generatedPassword}`,
      'This password is shown only once. Set RAPPORT_ADMIN_PASSWORD to choose it yourself.',
    );
  }
  if (!opts.readable) return opts.generatedPassword ? `\n${lines.map((l) => `  ${l}`).join('\n')}\n\n` : '';
  const width = Math.max(...lines.map((l) => l.length));
  const bold = (t: string) => `\u001b[1m${t}\u001b[22m`;
  const bar = `+${'-'.repeat(width + 2)}+`;
  const body = lines.map((l) => `| ${bold(l.padEnd(width))} |`);
  return `\n${[bar, ...body, bar].join('\n')}\n\n`;
}
