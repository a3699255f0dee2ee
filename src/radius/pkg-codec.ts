// The `radius` npm package (1.1.4) behind the same two operations our server does per
// Access-Request, kept only so bench/radius-codec.ts can measure it against our codec.
// Not used by the server or clients: see codec.ts for why. The only import of `radius`.
import { createRequire } from 'node:module';

interface RadiusPkg {
  decode(args: { packet: Buffer; secret: string }): { code: string; identifier: number; attributes: Record<string, unknown>; raw_attributes: [number, Buffer][] };
  encode_response(args: { packet: unknown; code: string; secret: string; attributes: [number | string, Buffer | string][] }): Buffer;
}

const pkg = createRequire(import.meta.url)('radius') as RadiusPkg;

/** Decode + verify an Access-Request (the package checks its Message-Authenticator), then encode the Accept. */
export function pkgAnswer(request: Buffer, secret: string, attrs: [number | string, Buffer | string][]): Buffer {
  const decoded = pkg.decode({ packet: request, secret });
  return pkg.encode_response({ packet: decoded, code: 'Access-Accept', secret, attributes: attrs });
}
