/**
 * Mobility Header codec (RFC 6275 6.1/6.2 and the PMIPv6 extensions).
 * Import everything MH-related from here: `import { ... } from '../mh/index.ts'`.
 */
export * from './types.ts';
