// Helpers shared by every feature of the addon (see common.h).
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void p6_throw_napi(napi_env env, napi_status status, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char msg[256];
  snprintf(msg, sizeof msg, "pmip6 native: %s failed (%s, status %d)", what,
           info && info->error_message ? info->error_message : "n-api error", (int)status);
  napi_throw_error(env, NULL, msg);
}

napi_value p6_throw_errno(napi_env env, int err, const char *syscall, const char *what) {
  const char *name = strerrorname_np(err);
  char code[24];
  if (name == NULL) {
    snprintf(code, sizeof code, "E%d", err);
    name = code;
  }
  char msg[384];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value m, e, v;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, m, &e) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v) == napi_ok) napi_set_named_property(env, e, "code", v);
  if (napi_create_int32(env, err, &v) == napi_ok) napi_set_named_property(env, e, "errno", v);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v) == napi_ok) napi_set_named_property(env, e, "syscall", v);
  napi_throw(env, e);
  return NULL;
}

napi_value p6_probe_result(napi_env env, int err, const char *what) {
  napi_value o, v;
  P6_CALL(env, napi_create_object(env, &o));
  napi_get_boolean(env, err == 0, &v);
  napi_set_named_property(env, o, "ok", v);
  if (err != 0) {
    const char *name = strerrorname_np(err);
    napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, o, "code", v);
    napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, o, "message", v);
    if (what != NULL) {
      napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &v);
      napi_set_named_property(env, o, "what", v);
    }
  }
  return o;
}

napi_value p6_throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

bool p6_get_string(napi_env env, napi_value v, char *buf, size_t cap, const char *name) {
  size_t len = 0;
  if (napi_get_value_string_latin1(env, v, buf, cap, &len) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a string", name);
    p6_throw_type(env, msg);
    return false;
  }
  if (len >= cap - 1) {
    // napi truncates silently: a string exactly cap-1 long may have been cut.
    size_t full = 0;
    napi_get_value_string_latin1(env, v, NULL, 0, &full);
    if (full >= cap) {
      char msg[128];
      snprintf(msg, sizeof msg, "%s is too long", name);
      p6_throw_type(env, msg);
      return false;
    }
  }
  return true;
}

static bool get_prop(napi_env env, napi_value obj, const char *key, napi_value *out, napi_valuetype *type) {
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok) return false;
  if (!has) {
    *type = napi_undefined;
    return true;
  }
  if (napi_get_named_property(env, obj, key, out) != napi_ok) return false;
  return napi_typeof(env, *out, type) == napi_ok;
}

bool p6_opt_u32(napi_env env, napi_value obj, const char *key, uint32_t *out) {
  napi_value v;
  napi_valuetype t;
  if (!get_prop(env, obj, key, &v, &t)) return false;
  if (t == napi_undefined) return true;
  if (t != napi_number) {
    char msg[128];
    snprintf(msg, sizeof msg, "option %s must be a number", key);
    p6_throw_type(env, msg);
    return false;
  }
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

bool p6_opt_bool(napi_env env, napi_value obj, const char *key, bool *out) {
  napi_value v;
  napi_valuetype t;
  if (!get_prop(env, obj, key, &v, &t)) return false;
  if (t == napi_undefined) return true;
  if (t != napi_boolean) {
    char msg[128];
    snprintf(msg, sizeof msg, "option %s must be a boolean", key);
    p6_throw_type(env, msg);
    return false;
  }
  return napi_get_value_bool(env, v, out) == napi_ok;
}

bool p6_opt_string(napi_env env, napi_value obj, const char *key, char *buf, size_t cap, bool *present) {
  napi_value v;
  napi_valuetype t;
  *present = false;
  if (!get_prop(env, obj, key, &v, &t)) return false;
  if (t == napi_undefined) return true;
  char name[64];
  snprintf(name, sizeof name, "option %s", key);
  if (!p6_get_string(env, v, buf, cap, name)) return false;
  *present = true;
  return true;
}

int p6_parse_in6(const char *text, struct sockaddr_in6 *out) {
  memset(out, 0, sizeof *out);
  out->sin6_family = AF_INET6;
  char host[INET6_ADDRSTRLEN + 1];
  const char *pct = strchr(text, '%');
  size_t n = pct ? (size_t)(pct - text) : strlen(text);
  if (n == 0 || n >= sizeof host) return EINVAL;
  memcpy(host, text, n);
  host[n] = '\0';
  if (inet_pton(AF_INET6, host, &out->sin6_addr) != 1) return EINVAL;
  if (pct) {
    const char *scope = pct + 1;
    if (*scope == '\0') return EINVAL;
    char *end = NULL;
    unsigned long idx = strtoul(scope, &end, 10);
    if (end && *end == '\0') {
      out->sin6_scope_id = (uint32_t)idx;
    } else {
      unsigned int i = if_nametoindex(scope);
      if (i == 0) return ENODEV;
      out->sin6_scope_id = i;
    }
  }
  return 0;
}

size_t p6_format_in6(const struct in6_addr *a, uint32_t scope, char *buf) {
  if (inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN) == NULL) {
    buf[0] = '\0';
    return 0;
  }
  size_t n = strlen(buf);
  if (scope != 0) n += (size_t)snprintf(buf + n, 12, "%%%u", scope);
  return n;
}

napi_value p6_in6_string(napi_env env, const struct in6_addr *a, uint32_t scope) {
  char buf[INET6_ADDRSTRLEN + 12];
  size_t n = p6_format_in6(a, scope, buf);
  napi_value s;
  if (napi_create_string_latin1(env, buf, n, &s) != napi_ok) return NULL;
  return s;
}

int p6_setsockopt_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : errno;
}

void *p6_unwrap_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, const char *what) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    char msg[64];
    snprintf(msg, sizeof msg, "not %s", what);
    p6_throw_type(env, msg);
    return NULL;
  }
  return data;
}
