# PMIP6 Suite image. Stage "build" installs every dependency and compiles src/ to dist/
# (`npm ci` runs the "prepare" script, and any native build step the package defines); the
# runtime stage keeps the production dependencies, dist/ and the data files, and runs plain
# Node.js as the unprivileged user "node" (uid 1000).
#
# Base images are pinned by exact version tag. Their digests could not be looked up where
# this file was written (no registry access); to pin by digest as well, append
# "@sha256:..." from `docker buildx imagetools inspect node:20.20.0-bookworm-slim`.
ARG NODE_IMAGE=node:20.20.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
# g++, make and python3 build the native addon (raw Mobility Header sockets, native/).
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV PMIP6_NATIVE=require
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /opt/pmip6
ENV NODE_ENV=production \
    PMIP6_DATA_DIR=/var/lib/pmip6 \
    PMIP6_SNMP_PORT=1161
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/native/binding.gyp ./native/binding.gyp
COPY --from=build /src/native/build/Release/pmip6_native.node ./native/build/Release/pmip6_native.node
COPY --from=build /src/bin ./bin
COPY --from=build /src/migrations ./migrations
COPY --from=build /src/mibs ./mibs
COPY --from=build /src/dict ./dict
RUN mkdir -p /var/lib/pmip6 && chown node:node /var/lib/pmip6
USER node
VOLUME /var/lib/pmip6
# Every listening port is 1024 or above, so the user "node" needs no capability: operator
# API (TCP 8080), RADIUS authentication/accounting (UDP 1812/1813), PMIPv6 signalling over
# IPv4/UDP (5436, RFC 5844), SNMP when users or communities are set (UDP 1161 here; publish
# it as 161). Signalling over IPv6 (raw Mobility Header sockets, IP protocol 135) needs the
# capability NET_RAW (compose: cap_add), and the data plane (later) NET_ADMIN: see
# "Deployment" in README.md.
EXPOSE 8080/tcp 1812/udp 1813/udp 5436/udp 1161/udp
HEALTHCHECK --interval=10s --timeout=6s --start-period=90s --retries=3 CMD ["node", "bin/pmip6.js", "health"]
ENTRYPOINT ["node", "bin/container-start.js"]
CMD ["start"]
