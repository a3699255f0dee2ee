// Secrets out of messages: the password of a connection URL.

/** postgres://user:secret@host/db -> postgres://user:***@host/db (also in text that is not a valid URL). */
export function withoutPassword(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@');
}
