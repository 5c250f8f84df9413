# One image for every Caly role (api, worker, scheduler, migrate): `caly <role>`.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin caly

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/caly /usr/local/bin/caly
USER nobody
ENTRYPOINT ["caly"]
CMD ["run"]
