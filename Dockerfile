# protofarm as a container image: the entrypoint is `protofarm`, the default command runs the
# demo scenario (scenarios/demo.yaml) on every interface of the container (`--listen-host
# 0.0.0.0`; the scenario itself binds loopback) with transcripts in the /transcripts volume.
#
#   docker build -t protofarm .
#   docker run --rm -p 7000:7000 -p 7001:7001 -v "$PWD/out:/transcripts" --user "$(id -u)" protofarm
#   docker run --rm -v "$PWD:/work" protofarm run /work/my.yaml --transcripts /transcripts ...
#
# docker-compose.yml runs one container per demo server (`--only NAME`); docs/ci.md shows how a
# CI pipeline uses the image as a service container. tests/e2e/test_docker_compose.py keeps
# this file consistent with the Makefile, the demo scenario and the compose file.

# --- build: the same commands as on a developer's Debian 12 machine --------------------------
FROM debian:12-slim AS build
# Only the package list first, so that changing a source file does not reinstall packages.
COPY tools/install-deps.sh /src/tools/install-deps.sh
RUN /src/tools/install-deps.sh build && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# `make build` as in the Makefile (RelWithDebInfo, Ninja), without the tests; the debug
# information is stripped from the installed copy only.
RUN make build BUILD=build CMAKE_FLAGS=-DPROTOFARM_TESTS=OFF \
 && ./build/protofarm validate scenarios/demo.yaml \
 && strip --strip-unneeded -o /protofarm build/protofarm

# --- runtime: the binary and the shared libraries it links (see `ldd protofarm`) ------------
# Boost (Asio, Regex), nlohmann-json and CLI11 are header-only here; the binary links
# libssl3/libcrypto3, libyaml-cpp0.7, libstdc++6, libgcc-s1 and libc6.
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libssl3 libyaml-cpp0.7 libstdc++6 libgcc-s1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /protofarm /usr/local/bin/protofarm
COPY scenarios/ /usr/share/protofarm/scenarios/
# Not root. /transcripts is writable by any user, so that `--user "$(id -u)"` works with a
# named volume as well (a bind mount keeps the host directory's own permissions).
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent protofarm \
 && mkdir -p /transcripts /work \
 && chmod 1777 /transcripts
USER protofarm
# Mount your repository here to use relative paths: -v "$PWD:/work".
WORKDIR /work
VOLUME /transcripts
# The demo scenario's ports (scenarios/demo.yaml); a scenario of your own publishes its own.
EXPOSE 7000 7001 2525 2110 7002/udp
# Ready once the ready file exists: protofarm writes it atomically after every listener is
# bound, and removes it when it stops. Keep `--ready-file /transcripts/ready.json` when you
# override the command, or override the health check too (docker-compose.yml does).
HEALTHCHECK --interval=1s --timeout=2s --start-period=30s --retries=3 \
  CMD ["test", "-f", "/transcripts/ready.json"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["protofarm"]
CMD ["run", "/usr/share/protofarm/scenarios/demo.yaml", "--listen-host", "0.0.0.0", \
     "--transcripts", "/transcripts", "--ready-file", "/transcripts/ready.json"]
