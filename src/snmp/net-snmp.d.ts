// The parts of net-snmp 3.x (no bundled typings) that src/snmp uses.
declare module 'net-snmp' {
  import type { EventEmitter } from 'node:events';

  export interface Varbind {
    oid: string;
    type: number;
    value: unknown;
  }

  export interface Pdu {
    type: number;
    id: number;
    varbinds: Varbind[];
    nonRepeaters?: number;
    maxRepetitions?: number;
    errorStatus?: number;
    errorIndex?: number;
    contextName?: string;
    getResponsePduForRequest(): Pdu;
  }

  /** net-snmp's Message (not exported; reached through the agent's request hooks). */
  export interface Message {
    version: number;
    community?: string;
    user?: { name: string; level: number };
    msgGlobalData?: { msgID: number; msgMaxSize: number; msgFlags: number; msgSecurityModel: number };
    pdu: Pdu;
    createResponseForRequest(pdu: Pdu): { toBuffer(): Buffer };
  }

  export interface Authorizer {
    addCommunity(community: string): void;
    addUser(user: Record<string, unknown>): void;
  }

  export interface Agent {
    engine: { engineID: Buffer; engineBoots: number; engineTime: number };
    getAuthorizer(): Authorizer;
    close(callback?: (socket: unknown) => void): void;
    getRequest(socket: unknown, message: Message, rinfo: unknown): void;
    getNextRequest(socket: unknown, message: Message, rinfo: unknown): void;
    getBulkRequest(socket: unknown, message: Message, rinfo: unknown): void;
    setRequest(socket: unknown, message: Message, rinfo: unknown): void;
  }

  export interface Session extends EventEmitter {
    trap(oid: string, varbinds: Varbind[], options: Record<string, unknown>, cb: (error: Error | null) => void): Session;
    inform(oid: string, varbinds: Varbind[], options: Record<string, unknown>, cb: (error: Error | null) => void): Session;
    close(): void;
  }

  interface NetSnmp {
    Version1: number;
    Version2c: number;
    Version3: number;
    ObjectType: Record<string, number>;
    PduType: Record<string, number>;
    ErrorStatus: Record<string, number>;
    SecurityLevel: { noAuthNoPriv: number; authNoPriv: number; authPriv: number };
    AuthProtocols: { md5: number; sha: number; sha224: number; sha256: number; sha384: number; sha512: number };
    PrivProtocols: { des: number; aes: number; aes256b: number; aes256r: number };
    AccessControlModelType: { None: number; Simple: number };
    Authentication: {
      passwordToKey(authProtocol: number, password: string, engineId: Buffer): Buffer;
    };
    Encryption: {
      encryptPdu(
        privProtocol: number,
        scopedPdu: Buffer,
        privPassword: string,
        authProtocol: number,
        engine: { engineID: Buffer; engineBoots: number; engineTime: number },
      ): { encryptedPdu: Buffer; msgPrivacyParameters: Buffer };
      decryptPdu(
        privProtocol: number,
        encryptedPdu: Buffer,
        privParameters: Buffer,
        privPassword: string,
        authProtocol: number,
        engine: { engineID: Buffer; engineBoots: number; engineTime: number },
      ): Buffer;
    };
    createAgent(options: Record<string, unknown>, callback: (error: Error | null, data?: unknown) => void): Agent;
    createSession(target: string, community: string, options: Record<string, unknown>): Session;
    createV3Session(target: string, user: Record<string, unknown>, options: Record<string, unknown>): Session;
  }

  const snmp: NetSnmp;
  export default snmp;
}
