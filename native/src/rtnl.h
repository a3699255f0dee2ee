// RouteNetlink: routes and policy rules through rtnetlink (src/dataplane/rtnl.ts).
#ifndef PMIP6_NATIVE_RTNL_H
#define PMIP6_NATIVE_RTNL_H

#include <node_api.h>

napi_value p6_rtnl_init(napi_env env, napi_value exports);

#endif
