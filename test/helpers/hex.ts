// Test helper: byte vectors written as annotated hex. Comments run from `#` or
// `//` to the end of the line; whitespace, `:` and `|` separate bytes freely.
//
//   hex`ffffffff ffffffff ffffffff ffffffff  # marker
//        0013                                # length 19
//        04                                  # KEEPALIVE`

/** Turns annotated hex text into a Buffer; throws on an odd digit count or a stray character. */
export function fromHex(text: string): Buffer {
  const digits = text
    .split('\n')
    .map((line) => line.replace(/(#|\/\/).*$/, ''))
    .join('')
    .replace(/[\s:|]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw new Error(`hex: stray character in ${JSON.stringify(digits)}`);
  if (digits.length % 2 !== 0) throw new Error(`hex: odd number of digits (${digits.length})`);
  return Buffer.from(digits, 'hex');
}

/** Tagged template form of fromHex; interpolated values are inserted as text. */
export function hex(strings: TemplateStringsArray, ...values: unknown[]): Buffer {
  let text = strings.raw[0]!;
  for (let i = 0; i < values.length; i++) text += String(values[i]) + strings.raw[i + 1]!;
  return fromHex(text);
}

/** Buffer to space-separated hex octets, 16 to a line: the inverse of fromHex for diffs. */
export function toHex(buf: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i += 16) {
    lines.push(Buffer.from(buf.subarray(i, i + 16)).toString('hex').replace(/(..)(?!$)/g, '$1 '));
  }
  return lines.join('\n');
}
