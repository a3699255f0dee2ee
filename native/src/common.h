// Helpers shared by every feature of the addon: N-API error handling, argument
// reading, IPv6 address text <-> struct conversion. Plain C11 + node_api.h.
#ifndef PMIP6_NATIVE_COMMON_H
#define PMIP6_NATIVE_COMMON_H

#include <node_api.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// On a failed N-API call: throw (unless an exception is already pending) and return NULL.
#define P6_CALL(env, call)                                   \
  do {                                                       \
    napi_status p6_status_ = (call);                         \
    if (p6_status_ != napi_ok) {                             \
      p6_throw_napi((env), p6_status_, #call);               \
      return NULL;                                           \
    }                                                        \
  } while (0)

// Throws an Error for a failed N-API call (keeps a pending exception if there is one).
void p6_throw_napi(napi_env env, napi_status status, const char *what);
// Throws an Error like Node's system errors: message "<what>: <strerror>", code "EPERM",
// errno, syscall. Returns NULL so callers can `return p6_throw_errno(...)`.
napi_value p6_throw_errno(napi_env env, int err, const char *syscall, const char *what);
// The answer of a capability probe: { ok: true }, or { ok: false, code: "EPERM", message:
// strerror, what } for errno `err` (what omitted when NULL). NULL after throwing.
napi_value p6_probe_result(napi_env env, int err, const char *what);
// Throws a TypeError with the message. Returns NULL.
napi_value p6_throw_type(napi_env env, const char *msg);

/* The native object behind `this` of a method call (napi_unwrap), or NULL after throwing a
 * TypeError "not a <what>" (a method called on another object). */
void *p6_unwrap_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, const char *what);

// Reads a JS string into buf (NUL-terminated). False (TypeError thrown) when not a string
// or longer than cap-1.
bool p6_get_string(napi_env env, napi_value v, char *buf, size_t cap, const char *name);
// Optional properties of an options object. Absent or undefined keeps *out unchanged.
bool p6_opt_u32(napi_env env, napi_value obj, const char *key, uint32_t *out);
bool p6_opt_bool(napi_env env, napi_value obj, const char *key, bool *out);
// Optional string property; *present tells whether it was given.
bool p6_opt_string(napi_env env, napi_value obj, const char *key, char *buf, size_t cap, bool *present);

// "2001:db8::1", "fe80::1%eth0" or "fe80::1%3" -> sockaddr_in6 (port 0). Returns 0, or an
// errno value (EINVAL for bad text, ENODEV for an unknown interface name).
int p6_parse_in6(const char *text, struct sockaddr_in6 *out);
// RFC 5952 text of an address (inet_ntop), with "%<ifindex>" when scope is non-zero.
// buf must hold INET6_ADDRSTRLEN + 11 octets. Returns the length.
size_t p6_format_in6(const struct in6_addr *a, uint32_t scope, char *buf);
napi_value p6_in6_string(napi_env env, const struct in6_addr *a, uint32_t scope);

// Sets an integer socket option; returns 0 or errno.
int p6_setsockopt_int(int fd, int level, int name, int value);

#endif
