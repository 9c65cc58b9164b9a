import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Verifies the scrypt PHC strings `altaviz users add` writes (lib/src/altaviz/accounts.py):
 * `$scrypt$ln=17,r=8,p=1$<salt>$<hash>`, standard base64 without padding. Node's built-in scrypt
 * (OpenSSL, like Python's hashlib.scrypt) computes the same function, so no native add-on is needed.
 */

const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;
const MAXMEM = 256 * 1024 * 1024;

function derive(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, length, { ...options, maxmem: MAXMEM }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const m = PHC.exec(phc);
  if (!m) return false;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds keep a tampered row from turning one sign-in into a memory or CPU bomb.
  if (ln < 10 || ln > 20 || r < 1 || r > 16 || p < 1 || p > 4) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const actual = await derive(password, Buffer.from(m[4]!, 'base64'), expected.length, { N: 2 ** ln, r, p });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;

/**
 * A hash of nothing anyone knows, with the same cost as a real one: an unknown account name takes
 * as long to refuse as a wrong password, so timing does not tell which names exist.
 */
export function dummyHash(): Promise<string> {
  dummy ??= (async () => {
    const salt = randomBytes(16);
    const key = await derive(randomBytes(16).toString('base64'), salt, 32, { N: 2 ** 17, r: 8, p: 1 });
    const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
    return `$scrypt$ln=17,r=8,p=1$${b64(salt)}$${b64(key)}`;
  })();
  return dummy;
}
