// RFC 5213 §4 signalling protection for the LMA and MAG roles, from config.security: IPsec SAs
// where the kernel has ESP, otherwise start only when unprotected signalling is accepted
// explicitly, and then say so loudly (log at every start; README "Security"; the SNMP agent's
// pmip6SuiteSignallingProtection).
import type { Config } from '../config/index.ts';
import { protectSignalling, type ProtectionDecision, type Run, type Selector } from '../security/ipsec.ts';
import { logger } from '../util/log.ts';

export async function signallingProtection(config: Config, selector: Omit<Selector, 'carriage'> & { carriage?: Selector['carriage'] }, run?: Run): Promise<ProtectionDecision> {
  const s = config.security;
  const d = await protectSignalling({ sas: s.ipsecSas, allowUnprotected: s.allowUnprotectedSignalling, selector }, run);
  const log = logger('security');
  if (d.protection === 'ipsec') log.info({ role: selector.role, reason: d.reason }, 'MAG-LMA signalling protected by IPsec (RFC 5213 §4)');
  else {
    log.warn(
      { role: selector.role, reason: d.reason },
      'UNPROTECTED SIGNALLING: MAG-LMA messages are neither authenticated nor encrypted (RFC 5213 §4 requires IPsec). ' +
        'Accepted because security.allowUnprotectedSignalling is true: run only on an isolated network.',
    );
  }
  return d;
}
