# syntax=docker/dockerfile:1
# icf's image: `docker build -t icf .` (docker-compose.yml builds it too).
# Stage 1 builds the binary, dependencies first so that they stay cached until a manifest
# or Cargo.lock changes; stage 2 is a small Debian with ffmpeg, running icf as a non-root user.

ARG RUST_VERSION=1.95
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
ENV CARGO_TERM_COLOR=never CARGO_INCREMENTAL=0

# 1. Every dependency, built against empty crates. Each crate under crates/ must have its
#    manifest copied here (crates/icf/tests/api/deploy.rs checks that none is missing).
COPY Cargo.toml Cargo.lock ./
COPY crates/app/Cargo.toml crates/app/Cargo.toml
COPY crates/core/Cargo.toml crates/core/Cargo.toml
COPY crates/crypto/Cargo.toml crates/crypto/Cargo.toml
COPY crates/engine/Cargo.toml crates/engine/Cargo.toml
COPY crates/icf/Cargo.toml crates/icf/Cargo.toml
COPY crates/instagram/Cargo.toml crates/instagram/Cargo.toml
COPY crates/media/Cargo.toml crates/media/Cargo.toml
COPY crates/store/Cargo.toml crates/store/Cargo.toml
COPY crates/translate/Cargo.toml crates/translate/Cargo.toml
COPY crates/web/Cargo.toml crates/web/Cargo.toml
COPY crates/worker/Cargo.toml crates/worker/Cargo.toml
RUN set -eux; \
    for dir in crates/*/; do mkdir -p "${dir}src"; touch "${dir}src/lib.rs"; done; \
    echo 'fn main() {}' > crates/icf/src/main.rs; \
    cargo build --release --locked -p icf; \
    rm -rf crates/*/src

# 2. icf itself. COPY keeps the sources' old timestamps, older than the empty crates just
#    built: touch them, or cargo would keep the empty ones.
COPY crates crates
RUN set -eux; \
    find crates -name '*.rs' -exec touch {} +; \
    cargo build --release --locked -p icf; \
    install -D -m 0755 target/release/icf /out/icf; \
    /out/icf --version

FROM debian:bookworm-slim AS runtime
# ffmpeg/ffprobe: video checks and covers; ca-certificates: HTTPS to Instagram and the
# translation providers; curl: the health check.
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ffmpeg ca-certificates curl; \
    rm -rf /var/lib/apt/lists/*; \
    useradd --system --uid 10001 --user-group --home-dir /var/lib/icf \
        --shell /usr/sbin/nologin icf; \
    install -d -o icf -g icf -m 0750 /var/lib/icf
COPY --from=build /out/icf /usr/local/bin/icf
COPY .env.example /usr/share/doc/icf/env.example
COPY DEPLOY.md /usr/share/doc/icf/DEPLOY.md

USER icf
WORKDIR /var/lib/icf
# The data dir holds local media (and generated keys when none are given: give them).
# MALLOC_ARENA_MAX=2: glibc's allocator otherwise keeps a memory arena per thread that
# allocated; the media work on blocking threads (photo and video copies) left a worker at
# twice its working set (BENCHMARKS.md, B4 with copies: 308 MB → 157 MB).
ENV ICF_DATA_DIR=/var/lib/icf \
    ICF_LISTEN=0.0.0.0:8000 \
    ICF_LOG_FORMAT=json \
    MALLOC_ARENA_MAX=2
VOLUME ["/var/lib/icf"]
EXPOSE 8000
STOPSIGNAL SIGTERM
# For `serve`; docker-compose.yml turns it off for the worker and migrate containers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${ICF_LISTEN##*:}/healthz" >/dev/null || exit 1
ENTRYPOINT ["icf"]
CMD ["serve"]
