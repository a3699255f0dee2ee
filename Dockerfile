# PMIP6 Suite image: Node 20 with the TypeScript sources run through tsx.
FROM node:20-bookworm-slim
WORKDIR /opt/pmip6
COPY package.json package-lock.json ./
# npm ci runs native/install.mjs; without a compiler in this image it builds nothing and says
# so (the IPv6 Mobility Header transport is then unavailable; IPv4/UDP works).
COPY native ./native
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY mibs ./mibs
COPY dict ./dict
ENV PMIP6_DATA_DIR=/var/lib/pmip6
VOLUME /var/lib/pmip6
# API, RADIUS auth/acct/CoA, Diameter, SNMP, PMIPv6 signalling over IPv4/UDP.
EXPOSE 8080 1812/udp 1813/udp 3799/udp 3868 161/udp 5436/udp
ENTRYPOINT ["node", "bin/pmip6.js"]
CMD ["start"]
